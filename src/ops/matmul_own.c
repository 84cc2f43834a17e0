/*
 * src/ops/matmul_own.c — the own backend (kernels in cl/matmul.cl, where
 * the layouts are described). On GPUs (MM_LOCAL=1): pack op(A) and op(B)
 * into zero-padded panels (mm_pack), multiply them with mm_local. On CPUs:
 * pack what must be packed (mm_pack_panel; see in_place() for which),
 * multiply with mm_regs, in chunks of k when k is long and the operands
 * outgrow the caches (k_chunk): the chunks side by side in one launch,
 * each into a partial C, and a second launch summing them (mm_ksum;
 * k_split), or one launch per chunk adding into C.
 *
 * The packed panels and the partial C's live in one scratch buffer per
 * context, grown on demand; the in-order queue keeps one call's packing
 * after the previous call's multiply and sum.
 */
#include "ops/matmul.h"
#include "ops/ops_state.h"

#define LIMIT_32BIT 2147483647.0

/* Sets kernel arguments in order; stops at the first failure. */
typedef struct arg_list {
  cls_context *ctx;
  cl_kernel k;
  cl_uint i;
  cls_status s;
} arg_list;

static void arg_mem(arg_list *l, const cls_buffer *b) {
  if (l->s == CLS_OK) l->s = cls__arg_mem(l->ctx, l->k, l->i, b);
  l->i++;
}
static void arg_uint(arg_list *l, size_t v) {
  if (l->s == CLS_OK) l->s = cls__arg_uint(l->ctx, l->k, l->i, v);
  l->i++;
}
static void arg_float(arg_list *l, float v) {
  if (l->s == CLS_OK) l->s = cls__arg_float(l->ctx, l->k, l->i, v);
  l->i++;
}
/* C's arguments, in the order every kernel that writes it takes them:
 * buffer, offset, ldc, batch stride, m, n. */
static void arg_c(arg_list *l, const cls__mm_args *g) {
  arg_mem(l, g->c.buf);
  arg_uint(l, g->c.offset);
  arg_uint(l, g->ldc);
  arg_uint(l, g->stride_c);
  arg_uint(l, g->m);
  arg_uint(l, g->n);
}

/* The bias arguments of mm_regs and mm_ksum: buffer, offset, stride
 * between models, products per model, and whether to add it (on is
 * g->has_bias and this launch's turn; without a bias, C's buffer stands
 * in, never read). */
static void arg_bias(arg_list *l, const cls__mm_args *g, int on) {
  int add = on && g->has_bias;
  arg_mem(l, add ? g->bias.buf : g->c.buf);
  arg_uint(l, add ? g->bias.offset : 0);
  arg_uint(l, add ? g->bias_stride : 0);
  arg_uint(l, add && g->bias_per ? g->bias_per : 1);
  arg_uint(l, (size_t)add);
}

/* Counts the bias a launch added as it stored C, under "bias_add.fused":
 * an add per entry of C (as cls_bias_add counts it) and the bias read, no
 * launch and no time of its own (both are the product's). */
static cls_status count_bias(cls_context *ctx, const cls__mm_args *g) {
  if (!g->has_bias) return CLS_OK;
  double flops = (double)g->m * (double)g->n * (double)g->batch;
  return cls__record(ctx, "bias_add.fused", NULL, 0.0, flops,
                     4.0 * (double)g->n * (double)(g->batch / g->bias_per));
}

/* The panel geometry of the own kernels on this context. */
typedef struct geometry {
  int local;     /* mm_local instead of mm_regs */
  size_t pa, pb; /* panel widths: rows of op(A), columns of op(B) */
  size_t kmul;   /* Kp is k rounded up to this */
  size_t lx, ly; /* work-group size of the multiply */
} geometry;

/* The register tile mm_regs was built with (it depends on the device's
 * vector registers, see cl/matmul.cl), asked once per context. */
static cls_status tile_of_regs(cls_context *ctx, size_t *rows, size_t *cols) {
  cls__ops_data *st = cls__ops_get(ctx);
  if (!st) return CLS_ERR_OUT_OF_MEMORY;
  if (!st->mm_tile_rows) {
    cl_kernel k;
    cls_buffer *out = NULL;
    float tile[2] = {0, 0};
    size_t one = 1;
    cls_status s = cls__kernel(ctx, "matmul", "mm_geometry", &k);
    if (s == CLS_OK) s = cls_buffer_alloc(ctx, 2, &out);
    if (s == CLS_OK) s = cls__arg_mem(ctx, k, 0, out);
    if (s == CLS_OK) s = cls__launch(ctx, "matmul.geometry", k, 1, &one, &one, 0.0, 8.0);
    if (s == CLS_OK) s = cls_buffer_read(ctx, out, 0, 2, tile);
    cls_buffer_free(out);
    if (s != CLS_OK) return s;
    if (!(tile[0] >= 1 && tile[0] <= 64 && tile[1] >= 1 && tile[1] <= 1024))
      return cls__fail(ctx, CLS_ERR_INTERNAL, "matmul: mm_geometry reported a %g x %g tile", (double)tile[0],
                       (double)tile[1]);
    st->mm_tile_rows = (size_t)tile[0];
    st->mm_tile_cols = (size_t)tile[1];
  }
  *rows = st->mm_tile_rows;
  *cols = st->mm_tile_cols;
  return CLS_OK;
}

static cls_status get_geometry(cls_context *ctx, geometry *geo) {
  geo->local = cls__param(ctx, "MM_LOCAL", 0) != 0;
  if (geo->local) {
    long tm = cls__param(ctx, "MM_TM", 64), tn = cls__param(ctx, "MM_TN", 64), tk = cls__param(ctx, "MM_TK", 16);
    long wm = cls__param(ctx, "MM_WM", 4), wn = cls__param(ctx, "MM_WN", 4);
    if (tm <= 0 || tn <= 0 || tk <= 0 || wm <= 0 || wn <= 0 || tm % wm || tn % wn)
      return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                       "matmul: device parameters MM_TM=%ld MM_TN=%ld MM_TK=%ld MM_WM=%ld MM_WN=%ld are "
                       "inconsistent (MM_WM must divide MM_TM, MM_WN must divide MM_TN); fix CLSCALE_PARAMS",
                       tm, tn, tk, wm, wn);
    geo->pa = (size_t)tm;
    geo->pb = (size_t)tn;
    geo->kmul = (size_t)tk;
    geo->lx = (size_t)(tn / wn);
    geo->ly = (size_t)(tm / wm);
  } else {
    long lm = cls__param(ctx, "MM_LM", 1), kp = cls__param(ctx, "MM_KP", 1);
    if (lm <= 0 || kp <= 0)
      return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                       "matmul: device parameters MM_LM=%ld MM_KP=%ld must be positive; fix CLSCALE_PARAMS", lm,
                       kp);
    cls_status s = tile_of_regs(ctx, &geo->pa, &geo->pb);
    if (s != CLS_OK) return s;
    geo->kmul = (size_t)kp;
    geo->lx = 1;
    geo->ly = (size_t)lm;
  }
  return CLS_OK;
}

/* Enqueues mm_pack for one side: X (R x K) with X[r][kk] at
 * ref + b*stride + (rmajor ? r*ld + kk : kk*ld + r), into panels of P. */
static cls_status pack(cls_context *ctx, const geometry *geo, cl_kernel kp, cls_ref src, size_t ld, size_t stride,
                       int rmajor, size_t R, size_t K, size_t P, size_t Kp, size_t batches, cls_buffer *dst,
                       size_t dst_off) {
  size_t panels = cls__round_up(R, P) / P;
  arg_list l = {ctx, kp, 0, CLS_OK};
  arg_mem(&l, src.buf);
  arg_uint(&l, src.offset);
  arg_uint(&l, ld);
  arg_uint(&l, stride);
  arg_uint(&l, (size_t)rmajor);
  arg_uint(&l, R);
  arg_uint(&l, K);
  arg_uint(&l, P);
  arg_uint(&l, Kp);
  arg_uint(&l, panels);
  arg_uint(&l, panels * P * Kp);
  arg_mem(&l, dst);
  arg_uint(&l, dst_off);
  if (l.s != CLS_OK) return l.s;
  double bytes = 4.0 * (double)batches * ((double)R * (double)K + (double)(panels * P) * (double)Kp);
  /* Fixed work-group sizes: PoCL compiles a kernel once per local size. */
  if (geo->local) { /* mm_pack: an element per work-item */
    size_t global[3] = {P, Kp, panels * batches}, local[3] = {P, 1, 1};
    return cls__launch(ctx, "matmul.own_pack", kp, 3, global, P <= 256 ? local : NULL, 0.0, bytes);
  }
  size_t global[2] = {panels, batches}, local[2] = {1, 1}; /* mm_pack_panel: a panel per work-item */
  return cls__launch(ctx, "matmul.own_pack", kp, 2, global, local, 0.0, bytes);
}

/* Rows of a 32-float column strip whose rows are ld floats apart that a
 * cache keeps without evicting its own lines: rows a multiple of the
 * cache's way size apart all land in one set. Assumes a 16-way cache with
 * 128 KiB ways (the 2 MiB L2 of recent x86 server cores; measured on one:
 * B in place at ld 512 and k chunks of 512 is fast, at ld 1024 slow). */
static size_t strip_rows_cached(size_t ld) {
  size_t way = 128 * 1024, stride = 4 * ld, g = way;
  for (size_t x = stride % way; x;) { /* g = gcd(stride, way) */
    size_t t = g % x;
    g = x;
    x = t;
  }
  size_t sets = way / g > way / 64 ? way / 64 : way / g; /* cache-line sets the strip's rows touch */
  return 16 * sets / 2;                                  /* 16 ways, 2 lines per row */
}

/* Rows kk of a B narrower than the panel (n < pb), read in place, whose
 * load of pb floats from the row's start (columns past n run on into the
 * row's gap and the next rows) ends inside the matrix: kk*ldb + pb <=
 * (k-1)*ldb + n. The same for every batch entry, so every entry (and each
 * of cls_matmul_models' products alone) takes the same path. mm_regs
 * loads the rows after them column by column. */
static size_t narrow_fast_rows(size_t n, size_t k, size_t ldb, size_t pb) {
  if (n >= pb) return k;
  size_t behind = (pb - n + ldb - 1) / ldb; /* rows a load may run into */
  return k > behind ? k - behind : 0;
}

/* Whether mm_regs reads A and B in place instead of packing them
 * (MM_ADIRECT, MM_BDIRECT: 0 never, 1 when it pays, 2 whenever it can,
 * for tests); *b is 1 for a row-major B, 2 for a transposed one. In place needs k unpadded (the loop over k runs
 * to the packed operand's depth). Packing costs about as much as the multiply when the other dimension is small (n
 * for A, m for B), so it is skipped where the kernel can stream the operand well:
 *  - a row-major A: each work-item streams MM_RMR rows (measured as fast
 *    as packed, at every leading dimension tried);
 *  - a row-major B whose column strip of kc rows (one chunk of k) stays in
 *    cache while the work-group's work-items reuse it (256^3: 1.5x faster
 *    in place; 1024^3: 2x slower). That includes a B narrower than the
 *    panel (see narrow_fast_rows): packing it was a launch of its own, as
 *    costly on a 2-core PoCL device as the small product itself (~15 us of
 *    host time: PoCL wakes its threads), and the emulator makes ~50 such
 *    products a training step (n = 1, 4, 16: the output head, the
 *    attention's values, dY of its narrow layers). Unless more than an
 *    eighth of its rows load column by column (n = 1 and k = 16: 1.6x
 *    slower than packed).
 *  - a transposed A whose rows for one chunk of k (kc rows of lda floats)
 *    fit in 256 KiB: each work-item reads MM_RMR adjacent floats of a row,
 *    the rest of the line goes to its neighbours from cache, and the pack
 *    is saved (the weight-gradient product 128 x 384 x 4096 TN on the
 *    2-core AVX-512 CPU, one PoCL and one OpenBLAS thread, interleaved,
 *    2026-12-07 at load 4-11: 0.82-0.87 of OpenBLAS against 0.74-0.83
 *    packed; 1024^3 TN in place, beyond the bound, ran at 0.6 of packed);
 *    and any transposed A when n <= 512: packing op(A) moves m*k floats
 *    read 12 at a time from rows lda apart, a cost that only a wide C
 *    amortises (the GPT's weight gradient 512 x 128 x 2048 TN spent 0.31
 *    ms packing A and 1.2 ms multiplying). Against packing, CPU time per
 *    call, interleaved, 2026-12-07 at load 4-5: 512 x 128 x 2048 1.21x,
 *    1024 x 128 x 2048 1.54x, 512 x 512 x 2048 1.10x faster in place.
 * A transposed B is packed: the kernel's vector loads run along op(B)'s
 * rows, which are columns of B, so in place it gathers them column by
 * column (b = 2). That pays only while the gathers, repeated for every
 * tile of rows (m k of them), cost less than the packing launch: for a B
 * of at most one panel and m k <= MM_BTK (2048 on CPUs). Per call against
 * packed, interleaved at load 1.2-1.9 (2026-12-07): 128 x 16 x 4 (the
 * emulator's attention scores, w16) 0.66-1.04, 128 x 16 x 12 (w48)
 * 0.72-0.93, 2048 x 16 x 2 0.82-0.89; but 256 x 16 x 16 0.92-1.62,
 * 2048 x 16 x 4 1.15-1.28, 2048 x 16 x 16 1.4. */
static void in_place(const cls_context *ctx, const geometry *geo, const cls__mm_args *g, size_t kc, int *a,
                     int *b) {
  long am = cls__param(ctx, "MM_ADIRECT", 1), bm = cls__param(ctx, "MM_BDIRECT", 1);
  *a = *b = 0;
  if (geo->local || geo->kmul != 1) return;
  *a = am >= 2 || (am == 1 && (g->ta == CLS_NO_TRANS || g->lda * kc * sizeof(float) <= 256 * 1024 || g->n <= 512));
  size_t tail = g->k - narrow_fast_rows(g->n, g->k, g->ldb, geo->pb);
  if (g->tb == CLS_NO_TRANS)
    *b = bm >= 2 || (bm == 1 && kc <= strip_rows_cached(g->ldb) && tail * 8 <= g->k);
  else
    *b = bm >= 2 || (bm == 1 && g->n <= geo->pb &&
                     (double)g->m * (double)g->k <= (double)cls__param(ctx, "MM_BTK", 0))
             ? 2
             : 0;
}

/* Whether the chunks of a long k (k_chunk) run side by side in one
 * launch, each into a partial C of its own, and a second launch adds the
 * partials in chunk order (MM_KSPLIT=1), rather than one launch per chunk
 * adding into C (MM_KSPLIT=0). Side by side keeps what chunks save in
 * cache and drops the launches: the emulator's weight gradients (k = 8192
 * rows) took 16 launches each. Against one launch per chunk, per call on
 * the 2-core AVX-512 PoCL device, interleaved in one process at load
 * 2.2-2.7 (2026-12-07): TN 16 x 64 x 8192 1.27-1.86x, 64 x 16 x 8192
 * 1.16-1.24x, 32 x 128 x 8192 1.09-1.17x, 64 x 256 x 8192 0.98-1.13x,
 * 128 x 384 x 4096 0.95-1.02x faster. Not for lower products: their
 * partial tiles above the diagonal are never written. */
static int k_split(const cls_context *ctx, const cls__mm_args *g) {
  return !g->lower && cls__param(ctx, "MM_KSPLIT", 0) != 0;
}

/* Whether a long k runs in chunks of MM_KC (side by side or one launch each,
 * see k_split; the measurements below are of the latter). Chunks keep a
 * work-item's slices of A and B in cache while its work-group neighbours
 * reuse them, which pays once op(A) and op(B) together, (m + n) k floats,
 * outgrow the caches (MM_KCF floats): the own kernel on the 2-core AVX-512
 * PoCL device, per call, chunked against one launch, interleaved at load ~2
 * (2026-12-07): 128 x 384 x 4096 TN 0.71-0.73, 512 x 128 x 2048 TN
 * 0.75-0.78; but the emulator's weight gradients (k = 2048 rows) 16 x 16 TN
 * 1.02-1.09, 16 x 64 1.16-1.22, 48 x 144 1.06-1.12: each extra launch costs
 * more than the cache saves. (Chunking a k that fits, so that a product of
 * one work-group, 16 x 16 x 8192, runs on both cores side by side:
 * 0.92-0.96x at load 2.3-2.5.) Decided on m, n and k only, never on the
 * batch, so that cls_matmul_models sums each product in the order it would
 * alone. */
static size_t k_chunk(const cls_context *ctx, const cls__mm_args *g, size_t kpad) {
  long kc = cls__param(ctx, "MM_KC", 0), kcf = cls__param(ctx, "MM_KCF", 0);
  if (kc <= 0 || (double)(g->m + g->n) * (double)kpad <= (double)kcf) return kpad;
  size_t chunks = (kpad + (size_t)kc - 1) / (size_t)kc;
  return (kpad + chunks - 1) / chunks;
}

/* The partial C's of a split k (see k_split): enqueues mm_ksum, which adds
 * the batch x slices partials (m x n each, from p_off in the scratch) in
 * slice order into C, scaled by alpha and beta. */
static cls_status k_sum(cls_context *ctx, const cls__mm_args *g, cls_buffer *scratch, size_t p_off,
                        size_t slices) {
  cl_kernel k;
  cls_status s = cls__kernel(ctx, "matmul", "mm_ksum", &k);
  if (s != CLS_OK) return s;
  size_t mn = g->m * g->n;
  /* Rows per work-item: about 4096 floats each (16 KiB, in L1), so that a
   * small C is one or a few work-groups. */
  size_t rpi = g->n >= 4096 ? 1 : 4096 / g->n;
  arg_list l = {ctx, k, 0, CLS_OK};
  arg_mem(&l, scratch);
  arg_uint(&l, p_off);
  arg_uint(&l, slices * mn);
  arg_uint(&l, slices);
  arg_c(&l, g);
  arg_uint(&l, rpi);
  arg_float(&l, g->alpha);
  arg_float(&l, g->beta);
  arg_bias(&l, g, 1);
  if (l.s != CLS_OK) return l.s;
  double b = (double)g->batch, floats = b * (double)mn * (2.0 * (double)slices - 1.0 + (g->beta != 0.0f ? 2 : 1));
  /* A fixed work-group size: PoCL compiles a kernel once per local size. */
  size_t global[2] = {(g->m + rpi - 1) / rpi, g->batch}, local[2] = {1, 1};
  s = cls__launch(ctx, "matmul.own_ksum", k, 2, global, local, 0.0, 4.0 * floats);
  return s == CLS_OK ? count_bias(ctx, g) : s;
}

/* Column panels per mm_regs work-item: MM_NPW if set; else as many as
 * leave every core (compute unit) at least 16 work-items while the B
 * panels one work-item walks (npw * panel_bytes) fit in 256 KiB of cache.
 * Several panels per work-item re-read its rows of A from cache; too many
 * stream all of B past them (measured on 1024^3: 10% slower with all 32). */
static size_t panels_per_item(const cls_context *ctx, size_t tiles_n, size_t tiles_m, size_t batch,
                              size_t panel_bytes) {
  long fixed = cls__param(ctx, "MM_NPW", 0);
  if (fixed > 0) return (size_t)fixed;
  unsigned units = cls_context_device(ctx)->compute_units;
  size_t want = 16 * (size_t)(units ? units : 1);
  size_t npw = 1;
  while (npw * 2 <= tiles_n && (tiles_n / (npw * 2)) * tiles_m * batch >= want &&
         npw * 2 * panel_bytes <= 256 * 1024)
    npw *= 2;
  return npw;
}

/* mm_regs's argument index of has_bias, its last; the bias buffer is
 * four before it. */
#define MM_REGS_HAS_BIAS 31

/* Sets mm_regs's bias arguments for one launch of a chunked k. */
static cls_status set_bias(cls_context *ctx, cl_kernel k, const cls__mm_args *g, int on) {
  arg_list l = {ctx, k, MM_REGS_HAS_BIAS - 4, CLS_OK};
  arg_bias(&l, g, on);
  return l.s;
}

cls_status cls__mm_own(cls_context *ctx, const cls__mm_args *g) {
  geometry geo = {0, 1, 1, 1, 1, 1};
  cls_status s = get_geometry(ctx, &geo);
  if (s != CLS_OK) return s;
  size_t kpad = cls__round_up(g->k, geo.kmul);
  /* On CPUs a long k may run as several launches over chunks of kc, each
   * adding into C (beta = 1 after the first); see k_chunk. */
  size_t kc = geo.local ? kpad : k_chunk(ctx, g, kpad);
  int a_direct, b_direct;
  in_place(ctx, &geo, g, kc, &a_direct, &b_direct);
  size_t mp = cls__round_up(g->m, geo.pa), np = cls__round_up(g->n, geo.pb);
  size_t a_batches = g->stride_a ? g->batch : 1, b_batches = g->stride_b ? g->batch : 1;
  double a_size = a_direct ? 0.0 : (double)a_batches * (double)mp * (double)kpad;
  double b_size = b_direct ? 0.0 : (double)b_batches * (double)np * (double)kpad;
  /* A long k split into slices run side by side (k_split): one partial C
   * per slice and batch entry, after the packed operands. */
  size_t slices = geo.local || kc == kpad || !k_split(ctx, g) ? 1 : (kpad + kc - 1) / kc;
  double p_size = slices > 1 ? (double)g->batch * (double)slices * (double)g->m * (double)g->n : 0.0;
  if (a_size + b_size + p_size > LIMIT_32BIT)
    return cls__fail(
        ctx, CLS_ERR_INVALID_SIZE,
        "cls_matmul (own): the packed operands and partial products of this %zu x %zu x %zu product "
        "(batch %zu) need %.0f floats, beyond the kernels' 32-bit indexing; split the batch or use the "
        "clblast backend",
        g->m, g->n, g->k, g->batch, a_size + b_size + p_size);

  cl_kernel kpack, kmul;
  s = cls__kernel(ctx, "matmul", geo.local ? "mm_pack" : "mm_pack_panel", &kpack);
  if (s == CLS_OK) s = cls__kernel(ctx, "matmul", geo.local ? "mm_local" : "mm_regs", &kmul);
  if (s != CLS_OK) return s;
  cls__ops_data *st = cls__ops_get(ctx);
  if (!st) return CLS_ERR_OUT_OF_MEMORY;
  if (a_size + b_size + p_size > 0) s = cls__ops_scratch(ctx, &st->mm_pack, (size_t)(a_size + b_size + p_size));
  if (s != CLS_OK) return s;

  /* op(A) is m x k: row-major in r when A is not transposed. op(B)
   * transposed is n x k: row-major in r when B is transposed. */
  if (!a_direct)
    s = pack(ctx, &geo, kpack, g->a, g->lda, g->stride_a, g->ta == CLS_NO_TRANS, g->m, g->k, geo.pa, kpad,
             a_batches, st->mm_pack, 0);
  if (s == CLS_OK && !b_direct)
    s = pack(ctx, &geo, kpack, g->b, g->ldb, g->stride_b, g->tb == CLS_TRANS, g->n, g->k, geo.pb, kpad, b_batches,
             st->mm_pack, (size_t)a_size);
  if (s != CLS_OK) return s;

  size_t tiles_n = np / geo.pb, tiles_m = mp / geo.pa;
  if (geo.local) {
    arg_list l = {ctx, kmul, 0, CLS_OK};
    arg_mem(&l, st->mm_pack);
    arg_uint(&l, g->stride_a ? mp * kpad : 0);
    arg_mem(&l, st->mm_pack);
    arg_uint(&l, (size_t)a_size);
    arg_uint(&l, g->stride_b ? np * kpad : 0);
    arg_c(&l, g);
    arg_uint(&l, kpad);
    arg_float(&l, g->alpha);
    arg_float(&l, g->beta);
    arg_uint(&l, (size_t)(g->lower != 0));
    if (l.s != CLS_OK) return l.s;
    size_t global[3] = {tiles_n * geo.lx, tiles_m * geo.ly, g->batch}, local[3] = {geo.lx, geo.ly, 1};
    s = cls__launch(ctx, "matmul.own", kmul, 3, global, local, cls__mm_flops(g), cls__mm_bytes(g));
    return s == CLS_OK ? cls__mm_bias_after(ctx, g) : s;
  }

  /* mm_regs. Operand addressing (see cl/matmul.cl): A packed (row0*Kp +
   * i + kk*MR), row-major in place (lda, lda, 1) or transposed (1, 1,
   * lda); B packed (col0*Kp + kk*NR + j), row-major in place (1, ldb) or
   * transposed in place (ldb, 1). */
  int at = g->ta == CLS_TRANS;
  const cls_buffer *abuf = a_direct ? g->a.buf : st->mm_pack, *bbuf = b_direct ? g->b.buf : st->mm_pack;
  size_t a_off = a_direct ? g->a.offset : 0, b_off = b_direct ? g->b.offset : (size_t)a_size;
  size_t a_row = a_direct ? (at ? 1 : g->lda) : kpad, a_rs = a_direct ? (at ? 1 : g->lda) : 1;
  size_t a_ks = a_direct ? (at ? g->lda : 1) : geo.pa;
  size_t b_col = kpad, b_ks = geo.pb; /* packed */
  if (b_direct == 1) {                /* row-major in place */
    b_col = 1;
    b_ks = g->ldb;
  } else if (b_direct == 2) { /* transposed in place */
    b_col = g->ldb;
    b_ks = 1;
  }
  size_t npw = panels_per_item(ctx, tiles_n, tiles_m, g->batch, geo.pb * kc * sizeof(float));
  arg_list l = {ctx, kmul, 0, CLS_OK};
  arg_mem(&l, abuf);
  arg_uint(&l, a_off);
  arg_uint(&l, a_row);
  arg_uint(&l, a_rs);
  arg_uint(&l, a_ks);
  arg_uint(&l, a_direct ? g->stride_a : g->stride_a ? mp * kpad : 0);
  arg_mem(&l, bbuf);
  arg_uint(&l, b_off);
  arg_uint(&l, b_col);
  arg_uint(&l, b_ks);
  arg_uint(&l, b_direct ? g->stride_b : g->stride_b ? np * kpad : 0);
  arg_uint(&l, (size_t)b_direct);
  arg_uint(&l, kpad); /* b_kfast, set per chunk below */
  arg_c(&l, g);
  arg_uint(&l, kpad);
  arg_float(&l, g->alpha);
  arg_float(&l, g->beta);
  arg_uint(&l, npw);
  arg_uint(&l, (size_t)(g->lower != 0));
  arg_uint(&l, slices > 1 ? kc : kpad); /* k_slice */
  arg_uint(&l, slices);
  arg_uint(&l, g->m * g->n);                  /* c_sstride, used only when slices > 1 */
  arg_bias(&l, g, slices == 1 && kc >= kpad); /* a split k's sum adds it; chunks set it per launch */
  if (l.s != CLS_OK) return l.s;
  /* One work-item per npw column panels; the rows are rounded up to whole
   * groups and the extra work-items return at once. */
  size_t global[3] = {(tiles_n + npw - 1) / npw, cls__round_up(tiles_m, geo.ly), g->batch * slices};
  size_t local[3] = {geo.lx, geo.ly, 1};

  size_t kfast = b_direct == 2 ? 0 : b_direct ? narrow_fast_rows(g->n, kpad, g->ldb, geo.pb) : kpad;
  if (slices > 1) {
    /* The slices into the partials (alpha 1, beta 0, rows n apart), then
     * their sum into C. */
    size_t p_off = (size_t)(a_size + b_size);
    cls__mm_args part = *g;
    part.beta = 0.0f;
    double bytes = cls__mm_bytes(&part) + 4.0 * (double)g->batch * (double)(slices - 1) * (double)(g->m * g->n);
    cls_status s2 = cls__arg_uint(ctx, kmul, 12, kfast);
    if (s2 == CLS_OK) s2 = cls__arg_mem(ctx, kmul, 13, st->mm_pack);
    if (s2 == CLS_OK) s2 = cls__arg_uint(ctx, kmul, 14, p_off);
    if (s2 == CLS_OK) s2 = cls__arg_uint(ctx, kmul, 15, g->n);
    if (s2 == CLS_OK) s2 = cls__arg_uint(ctx, kmul, 16, slices * g->m * g->n);
    if (s2 == CLS_OK) s2 = cls__arg_float(ctx, kmul, 20, 1.0f);
    if (s2 == CLS_OK) s2 = cls__arg_float(ctx, kmul, 21, 0.0f);
    if (s2 == CLS_OK) s2 = cls__launch(ctx, "matmul.own", kmul, 3, global, local, cls__mm_flops(g), bytes);
    if (s2 == CLS_OK) s2 = k_sum(ctx, g, st->mm_pack, p_off, slices);
    return s2;
  }
  for (size_t k0 = 0; k0 < kpad; k0 += kc) {
    size_t klen = kpad - k0 < kc ? kpad - k0 : kc;
    size_t kfast_part = kfast <= k0 ? 0 : kfast - k0 < klen ? kfast - k0 : klen;
    cls__mm_args part = *g;
    part.k = k0 >= g->k ? 0 : g->k - k0 < klen ? g->k - k0 : klen; /* without the padding */
    if (k0 > 0) part.beta = 1.0f;
    cls_status s2 = cls__arg_uint(ctx, kmul, 1, a_off + k0 * a_ks);
    if (s2 == CLS_OK) s2 = cls__arg_uint(ctx, kmul, 7, b_off + k0 * b_ks);
    if (s2 == CLS_OK) s2 = cls__arg_uint(ctx, kmul, 12, kfast_part);
    if (s2 == CLS_OK) s2 = cls__arg_uint(ctx, kmul, 19, klen);
    if (s2 == CLS_OK) s2 = cls__arg_uint(ctx, kmul, 24, klen);
    if (s2 == CLS_OK) s2 = cls__arg_float(ctx, kmul, 21, part.beta);
    int last = k0 + kc >= kpad;
    if (s2 == CLS_OK && g->has_bias) /* after the last chunk's product only */
      s2 = set_bias(ctx, kmul, g, last);
    if (s2 == CLS_OK)
      s2 = cls__launch(ctx, "matmul.own", kmul, 3, global, local, cls__mm_flops(&part), cls__mm_bytes(&part));
    if (s2 == CLS_OK && last) s2 = count_bias(ctx, g);
    if (s2 != CLS_OK) return s2;
  }
  return CLS_OK;
}
