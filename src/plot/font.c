/*
 * src/plot/font.c — text from the Hershey simplex stroke font.
 *
 * The .jhf glyph files are embedded at build time (src/plot/embed_font.cmake)
 * and parsed here into stroke lists. A string is first laid out into placed
 * glyphs (which handles the ^{} / _{} / \name markup), then measured or drawn;
 * all strokes of one string go into the coverage mask and are composited
 * once, so crossing strokes do not darken.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "plot/plot.h"

extern const char cls__font_futural[];
extern const char cls__font_greek[];

#define NGLYPH 96
#define PEN_UP (-128)
/* Hershey units: cap tops at y=-12, baseline at y=9, so a cap height of 21
 * units; the em is chosen so that caps are 0.72 em tall, like a sans font. */
#define UNITS_PER_EM (21.0 / 0.72)
#define BASELINE     9.0
#define ASCENT_EM    0.72
#define DESCENT_EM   0.25
#define SCRIPT_SCALE 0.7
#define SUP_RISE_EM  0.45
#define SUB_DROP_EM  0.2
#define STROKE_EM    0.08

typedef struct {
  int left, right;
  int n;            /* number of (x,y) pairs in pts */
  signed char *pts; /* pairs; x == PEN_UP starts a new stroke */
} glyph;

struct cls_font {
  glyph roman[NGLYPH];
  glyph greek[NGLYPH];
  glyph extra[8]; /* symbols that the two files lack or draw unsuitably */
};

enum { EX_MINUS, EX_HYPHEN, EX_TIMES, EX_CDOT, EX_PM, EX_APPROX, EX_COUNT };
/* In .jhf notation (left, right, then points, " R" lifts the pen). */
static const char *const extra_src[EX_COUNT] = {
    "H\\LRXR",                       /* minus: as wide as a digit */
    "LXNRVR",                        /* hyphen: shorter than the file's glyph */
    "H\\MMWW RWMMW",                 /* times */
    "NVRQQRRSSRRQ",                  /* centred dot */
    "H\\RJRT RLOXO RLXXX",           /* plus-minus */
    "H\\LPNOPOTQVQXP RLUNTPTTVVVXU", /* approximately equal */
};

/* Parses one glyph record body: margins then coordinate pairs. */
static int parse_body(glyph *g, const char *body, int npairs) {
  g->left = body[0] - 'R';
  g->right = body[1] - 'R';
  g->n = npairs - 1;
  g->pts = malloc((size_t)(g->n > 0 ? g->n : 1) * 2);
  if (!g->pts) return -1;
  for (int i = 0; i < g->n; i++) {
    char cx = body[2 + 2 * i], cy = body[3 + 2 * i];
    if (cx == ' ' && cy == 'R') {
      g->pts[2 * i] = PEN_UP;
      g->pts[2 * i + 1] = 0;
    } else {
      g->pts[2 * i] = (signed char)(cx - 'R');
      g->pts[2 * i + 1] = (signed char)(cy - 'R');
    }
  }
  return 0;
}

/* A .jhf file: records of a 5-column id, a 3-column pair count, then the
 * pairs, which long records continue on the next lines. */
static int parse_file(glyph *out, const char *text) {
  const char *p = text;
  int count = 0;
  char body[1024];
  while (*p && count < NGLYPH) {
    while (*p == '\n' || *p == '\r') p++;
    if (!*p) break;
    if (strlen(p) < 8) return -1;
    char num[4] = {p[5], p[6], p[7], 0};
    int npairs = atoi(num);
    p += 8;
    if (npairs < 1 || 2 * npairs >= (int)sizeof body) return -1;
    int got = 0;
    while (got < 2 * npairs && *p) {
      if (*p != '\n' && *p != '\r') body[got++] = *p;
      p++;
    }
    if (got < 2 * npairs) return -1;
    if (parse_body(&out[count], body, npairs)) return -1;
    count++;
  }
  return count == NGLYPH ? 0 : -1;
}

void cls_font_destroy(cls_font *f) {
  if (!f) return;
  for (int i = 0; i < NGLYPH; i++) {
    free(f->roman[i].pts);
    free(f->greek[i].pts);
  }
  for (int i = 0; i < EX_COUNT; i++) free(f->extra[i].pts);
  free(f);
}

cls_status cls_font_create(cls_font **out, char *err, size_t err_len) {
  if (!out) return CLS_ERR_NULL_ARGUMENT;
  *out = NULL;
  cls_font *f = calloc(1, sizeof *f);
  if (!f) {
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of memory loading the plot font");
  }
  int bad = parse_file(f->roman, cls__font_futural) || parse_file(f->greek, cls__font_greek);
  for (int i = 0; i < EX_COUNT && !bad; i++)
    bad = parse_body(&f->extra[i], extra_src[i], (int)strlen(extra_src[i]) / 2);
  if (bad) {
    cls_font_destroy(f);
    return cls_errf(err, err_len, CLS_ERR_INTERNAL,
                    "the embedded Hershey font data is malformed: rebuild clscale against an intact "
                    "hershey-fonts-data package");
  }
  *out = f;
  return CLS_OK;
}

/* ----------------------------------------------------------------- layout */

typedef struct {
  const glyph *g;
  double x;     /* pen position in em, from the start of the string */
  double yoff;  /* baseline shift in em, positive upwards */
  double scale; /* relative to the string's size */
} placed;

typedef struct {
  placed *items;
  size_t n, cap;
  double width, ascent, descent; /* em */
} layout;

static const struct {
  const char *name, *utf8;
  char greek; /* letter in greek.jhf, or 0 */
  int extra;  /* else an extra glyph */
} symbols[] = {
    {"alpha", "\xce\xb1", 'a', 0},      {"beta", "\xce\xb2", 'b', 0},
    {"gamma", "\xce\xb3", 'g', 0},      {"delta", "\xce\xb4", 'd', 0},
    {"epsilon", "\xce\xb5", 'e', 0},    {"eta", "\xce\xb7", 'h', 0},
    {"theta", "\xce\xb8", 'q', 0},      {"kappa", "\xce\xba", 'k', 0},
    {"lambda", "\xce\xbb", 'l', 0},     {"mu", "\xce\xbc", 'm', 0},
    {"nu", "\xce\xbd", 'n', 0},         {"pi", "\xcf\x80", 'p', 0},
    {"rho", "\xcf\x81", 'r', 0},        {"sigma", "\xcf\x83", 's', 0},
    {"tau", "\xcf\x84", 't', 0},        {"phi", "\xcf\x86", 'f', 0},
    {"chi", "\xcf\x87", 'c', 0},        {"omega", "\xcf\x89", 'w', 0},
    {"Delta", "\xce\x94", 'D', 0},      {"minus", "\xe2\x88\x92", 0, EX_MINUS},
    {"times", "\xc3\x97", 0, EX_TIMES}, {"cdot", "\xc2\xb7", 0, EX_CDOT},
    {"pm", "\xc2\xb1", 0, EX_PM},       {"approx", "\xe2\x89\x88", 0, EX_APPROX},
};

static const glyph *symbol_glyph(const cls_font *f, size_t i) {
  if (symbols[i].greek) return &f->greek[symbols[i].greek - 32];
  return &f->extra[symbols[i].extra];
}

static void push(layout *L, const glyph *g, double *pen, double yoff, double scale) {
  if (L->n == L->cap) {
    size_t cap = L->cap ? 2 * L->cap : 32;
    placed *p = realloc(L->items, cap * sizeof *p);
    if (!p) return; /* out of memory: the rest of the string is not drawn */
    L->items = p;
    L->cap = cap;
  }
  L->items[L->n].g = g;
  L->items[L->n].x = *pen;
  L->items[L->n].yoff = yoff;
  L->items[L->n].scale = scale;
  L->n++;
  *pen += (g->right - g->left) * scale / UNITS_PER_EM;
  double asc = yoff + ASCENT_EM * scale, desc = DESCENT_EM * scale - yoff;
  if (asc > L->ascent) L->ascent = asc;
  if (desc > L->descent) L->descent = desc;
}

/* Lays out s up to its end or an unmatched '}' and returns where it stopped. */
static const char *lay(const cls_font *f, layout *L, const char *s, double *pen, double yoff, double scale,
                       bool in_script) {
  while (*s && *s != '}') {
    unsigned char ch = (unsigned char)*s;
    if ((ch == '^' || ch == '_') && s[1] == '{') {
      bool sup = ch == '^';
      double sub_yoff = yoff + (sup ? SUP_RISE_EM : -SUB_DROP_EM) * scale;
      s = lay(f, L, s + 2, pen, sub_yoff, scale * SCRIPT_SCALE, true);
      if (*s == '}') s++;
      continue;
    }
    if (ch == '\\') {
      size_t len = 0;
      while (s[1 + len] && ((s[1 + len] >= 'a' && s[1 + len] <= 'z') || (s[1 + len] >= 'A' && s[1 + len] <= 'Z')))
        len++;
      /* The longest known name that starts the letters wins, so "\cdotC"
       * is a centred dot followed by C, as a user would mean it. */
      size_t best = 0, best_len = 0;
      for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        size_t n = strlen(symbols[i].name);
        if (n <= len && n > best_len && !strncmp(symbols[i].name, s + 1, n)) best = i, best_len = n;
      }
      if (best_len) {
        push(L, symbol_glyph(f, best), pen, yoff, scale);
        s += 1 + best_len;
        continue;
      }
      if (s[1] == '{' || s[1] == '}' || s[1] == '\\' || s[1] == '^' || s[1] == '_') s++; /* escaped char */
      ch = (unsigned char)*s;
    }
    if (ch >= 0x80) {
      bool found = false;
      for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        size_t n = strlen(symbols[i].utf8);
        if (!strncmp(symbols[i].utf8, s, n)) {
          push(L, symbol_glyph(f, i), pen, yoff, scale);
          s += n;
          found = true;
          break;
        }
      }
      if (!found) { /* an unknown UTF-8 sequence: one '?' for the whole character */
        s++;
        while ((*s & 0xC0) == 0x80) s++;
        push(L, &f->roman['?' - 32], pen, yoff, scale);
      }
      continue;
    }
    const glyph *g;
    if (ch == '-') {
      /* A '-' in an exponent or before a digit is a minus sign. */
      bool minus = in_script || (s[1] >= '0' && s[1] <= '9') || s[1] == '.';
      g = &f->extra[minus ? EX_MINUS : EX_HYPHEN];
    } else if (ch < 32 || ch > 126) {
      g = &f->roman['?' - 32];
    } else {
      g = &f->roman[ch - 32];
    }
    push(L, g, pen, yoff, scale);
    s++;
  }
  return s;
}

static layout make_layout(const cls_font *f, const char *text) {
  layout L = {0};
  double pen = 0.0;
  const char *s = text;
  while (*s) {
    s = lay(f, &L, s, &pen, 0.0, 1.0, false);
    if (*s == '}') s++; /* a stray '}' is ignored */
  }
  L.width = pen;
  if (L.n == 0) L.ascent = ASCENT_EM, L.descent = DESCENT_EM;
  return L;
}

cls_text_extent cls_text_measure(const cls_font *f, const char *text, double size) {
  cls_text_extent e = {0, 0, 0};
  if (!f || !text) return e;
  layout L = make_layout(f, text);
  e.width = L.width * size;
  e.ascent = L.ascent * size;
  e.descent = L.descent * size;
  free(L.items);
  return e;
}

void cls_text_draw_ex(cls_canvas *c, const cls_font *f, const char *text, double x, double y, double size,
                      double angle_deg, cls_halign ha, cls_valign va, cls_rgba color, double weight) {
  if (!c || !f || !text || !(size > 0.0) || !isfinite(x) || !isfinite(y)) return;
  layout L = make_layout(f, text);
  double ox = ha == CLS_ALIGN_LEFT ? 0.0 : ha == CLS_ALIGN_CENTER ? -0.5 * L.width : -L.width;
  double oy = va == CLS_VALIGN_TOP      ? L.ascent
              : va == CLS_VALIGN_BOTTOM ? -L.descent
              : va == CLS_VALIGN_CENTER ? 0.5 * (L.ascent - L.descent)
                                        : 0.0; /* local y of the baseline, down positive, em */
  double a = angle_deg * 3.14159265358979323846 / 180.0, ca = cos(a), sa = sin(a);
  for (size_t i = 0; i < L.n; i++) {
    const placed *p = &L.items[i];
    const glyph *g = p->g;
    double u = p->scale / UNITS_PER_EM; /* em per glyph unit */
    double width = STROKE_EM * weight * size * (0.6 + 0.4 * p->scale);
    double px = 0, py = 0;
    bool down = false;
    for (int k = 0; k < g->n; k++) {
      if (g->pts[2 * k] == PEN_UP) {
        down = false;
        continue;
      }
      double lx = (ox + p->x + (g->pts[2 * k] - g->left) * u) * size;
      double ly = (oy - p->yoff + (g->pts[2 * k + 1] - BASELINE) * u) * size;
      double sx = x + lx * ca + ly * sa, sy = y - lx * sa + ly * ca;
      if (down)
        cls_mask_capsule(c, px, py, sx, sy, width);
      else if (k + 1 >= g->n || g->pts[2 * k + 2] == PEN_UP)
        cls_mask_capsule(c, sx, sy, sx, sy, width);
      px = sx, py = sy, down = true;
    }
  }
  cls_mask_composite(c, color);
  free(L.items);
}

void cls_text_draw(cls_canvas *c, const cls_font *f, const char *text, double x, double y, double size,
                   double angle_deg, cls_halign ha, cls_valign va, cls_rgba color) {
  cls_text_draw_ex(c, f, text, x, y, size, angle_deg, ha, va, color, 1.0);
}
