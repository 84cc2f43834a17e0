/* src/rundir/claim.c — see claim.h: the claim file's format and the
 * take / renew / release protocol on it. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/file.h"
#include "rundir/claim.h"

/* ------------------------------------------------------------- format */

double cls_claim_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A value written on one line: printable ASCII without spaces (hosts,
 * Slurm ids); empty allowed where the caller says. */
static int word_ok(const char *v, size_t n, int empty_ok) {
  if (!n) return empty_ok;
  for (size_t i = 0; i < n; i++)
    if (v[i] <= 0x20 || v[i] >= 0x7f) return 0;
  return 1;
}

size_t cls_claim_format(const cls_claim *c, char *out, size_t len) {
  if (!word_ok(c->host, strlen(c->host), 0) || !word_ok(c->slurm_job, strlen(c->slurm_job), 1) ||
      !word_ok(c->slurm_task, strlen(c->slurm_task), 1) || !cls_rundir_id_ok(c->id))
    return 0;
  int n =
      snprintf(out, len,
               CLS_CLAIM_MAGIC "\nid=%s\ntoken=%s\nhost=%s\npid=%llu\nslurm_job=%s\nslurm_task=%s\ntaken=%.3f\n"
                               "heartbeat=%.3f\nstep=%llu\ntotal_steps=%llu\nend\n",
               c->id, c->token, c->host, (unsigned long long)c->pid, c->slurm_job, c->slurm_task, c->taken,
               c->heartbeat, (unsigned long long)c->step, (unsigned long long)c->total_steps);
  return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

/* Decimal digits (at most 19: no overflow) into *v. */
static int parse_u64(const char *s, size_t n, uint64_t *v) {
  if (!n || n > 19) return 0;
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    x = x * 10 + (uint64_t)(s[i] - '0');
  }
  *v = x;
  return 1;
}

/* DIGITS[.DIGITS]: Unix seconds, as written (no sign, no exponent). */
static int parse_time(const char *s, size_t n, double *v) {
  size_t i = 0;
  while (i < n && s[i] >= '0' && s[i] <= '9') i++;
  if (!i || i > 12) return 0;
  size_t frac = 0;
  if (i < n) {
    if (s[i] != '.') return 0;
    for (size_t k = i + 1; k < n; k++, frac++)
      if (s[k] < '0' || s[k] > '9' || frac >= 9) return 0;
    if (!frac) return 0;
  }
  char buf[32];
  memcpy(buf, s, n);
  buf[n] = 0;
  *v = strtod(buf, NULL);
  return isfinite(*v);
}

/* Copies a value of n bytes into out (cap bytes with the NUL). */
static int copy_value(char *out, size_t cap, const char *v, size_t n) {
  if (n >= cap) return 0;
  memcpy(out, v, n);
  out[n] = 0;
  return 1;
}

static const char *const claim_keys[] = {"id",         "token", "host",      "pid",  "slurm_job",
                                         "slurm_task", "taken", "heartbeat", "step", "total_steps"};

/* One "key=value" line's value into c; 0 when it is not a valid value. */
static int parse_field(size_t k, const char *v, size_t n, cls_claim *c) {
  switch (k) {
  case 0:
    return copy_value(c->id, sizeof c->id, v, n) && cls_rundir_id_ok(c->id);
  case 1:
    if (n != 32) return 0;
    for (size_t i = 0; i < n; i++)
      if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f'))) return 0;
    return copy_value(c->token, sizeof c->token, v, n);
  case 2:
    return word_ok(v, n, 0) && copy_value(c->host, sizeof c->host, v, n);
  case 3:
    return parse_u64(v, n, &c->pid) && c->pid > 0;
  case 4:
    return word_ok(v, n, 1) && copy_value(c->slurm_job, sizeof c->slurm_job, v, n);
  case 5:
    return word_ok(v, n, 1) && copy_value(c->slurm_task, sizeof c->slurm_task, v, n);
  case 6:
    return parse_time(v, n, &c->taken);
  case 7:
    return parse_time(v, n, &c->heartbeat);
  case 8:
    return parse_u64(v, n, &c->step);
  default:
    return parse_u64(v, n, &c->total_steps);
  }
}

cls_status cls_claim_parse(const char *buf, size_t len, cls_claim *out, char *err, size_t err_len) {
  memset(out, 0, sizeof *out);
  cls_claim c;
  memset(&c, 0, sizeof c);
  size_t pos = 0, line = 0;
  const size_t n_keys = sizeof claim_keys / sizeof claim_keys[0];
  /* Line by line: the magic, the fields in order, "end", nothing after. */
  for (size_t k = 0; k <= n_keys + 1; k++) {
    line++;
    const char *nl = pos < len ? memchr(buf + pos, '\n', len - pos) : NULL;
    if (!nl)
      return cls_errf(err, err_len, CLS_ERR_FORMAT, "cut short at line %zu (%s)", line,
                      k == 0        ? "no first line"
                      : k <= n_keys ? claim_keys[k - 1]
                                    : "no \"end\" line");
    const char *s = buf + pos;
    const size_t n = (size_t)(nl - s);
    pos += n + 1;
    if (k == 0) {
      if (n != strlen(CLS_CLAIM_MAGIC) || memcmp(s, CLS_CLAIM_MAGIC, n))
        return cls_errf(err, err_len, CLS_ERR_FORMAT, "line 1 is not \"" CLS_CLAIM_MAGIC "\"");
      continue;
    }
    if (k == n_keys + 1) {
      if (n != 3 || memcmp(s, "end", 3))
        return cls_errf(err, err_len, CLS_ERR_FORMAT, "line %zu is not \"end\"", line);
      continue;
    }
    const char *key = claim_keys[k - 1];
    const size_t kn = strlen(key);
    if (n <= kn || memcmp(s, key, kn) || s[kn] != '=')
      return cls_errf(err, err_len, CLS_ERR_FORMAT, "line %zu should be %s=...", line, key);
    if (!parse_field(k - 1, s + kn + 1, n - kn - 1, &c))
      return cls_errf(err, err_len, CLS_ERR_FORMAT, "line %zu: not a valid %s", line, key);
  }
  if (pos != len) return cls_errf(err, err_len, CLS_ERR_FORMAT, "bytes after the \"end\" line");
  if (c.total_steps && c.step > c.total_steps)
    return cls_errf(err, err_len, CLS_ERR_FORMAT, "step %llu is past total_steps %llu", (unsigned long long)c.step,
                    (unsigned long long)c.total_steps);
  *out = c;
  return CLS_OK;
}

/* -------------------------------------------------------------- files */

/* 32 hex digits that no other claim has: from /dev/urandom, or, where
 * that cannot be read, from the clock, the pid and the struct's address
 * mixed by a 64-bit hash. */
static void new_token(char out[33], const void *salt) {
  unsigned char b[16];
  int got = 0;
  FILE *f = fopen("/dev/urandom", "rb");
  if (f) {
    got = fread(b, 1, sizeof b, f) == sizeof b;
    fclose(f);
  }
  if (!got) {
    uint64_t h = 1469598103934665603ull;
    const double t = cls_claim_clock();
    uint64_t parts[3] = {(uint64_t)getpid(), (uint64_t)(uintptr_t)salt, 0};
    memcpy(&parts[2], &t, sizeof t);
    for (int round = 0; round < 2; round++)
      for (int i = 0; i < 3; i++) {
        h ^= parts[i] + (uint64_t)round;
        h *= 1099511628211ull;
        for (int j = 0; j < 8; j++) b[round * 8 + j] = (unsigned char)(h >> (8 * j));
      }
  }
  for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The first 63 characters of an environment variable that are allowed in
 * a claim ("" when unset). */
static void env_word(char *out, size_t cap, const char *name) {
  const char *v = getenv(name);
  size_t k = 0;
  for (; v && *v && k + 1 < cap; v++)
    if (*v > 0x20 && *v < 0x7f) out[k++] = *v;
  out[k] = 0;
}

void cls_claim_init(cls_claim *c, const char *id) {
  memset(c, 0, sizeof *c);
  snprintf(c->id, sizeof c->id, "%s", id ? id : "");
  if (gethostname(c->host, sizeof c->host - 1) != 0 || !c->host[0]) snprintf(c->host, sizeof c->host, "unknown");
  c->host[sizeof c->host - 1] = 0;
  for (char *p = c->host; *p; p++)
    if (*p <= 0x20 || *p >= 0x7f) *p = '?';
  c->pid = (uint64_t)getpid();
  env_word(c->slurm_job, sizeof c->slurm_job, "SLURM_JOB_ID");
  env_word(c->slurm_task, sizeof c->slurm_task, "SLURM_ARRAY_TASK_ID");
  new_token(c->token, c);
  c->taken = c->heartbeat = cls_claim_clock();
}

/* Reads a claim file's bytes (at most CLS_CLAIM_MAX_BYTES + 1). 1 with
 * *len set; 0 when it does not exist (errno ENOENT) or cannot be read. */
static int read_bytes(const char *path, char *buf, size_t cap, size_t *len) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
    if (n == cap) break;
  }
  close(fd);
  *len = n;
  return 1;
}

cls_status cls_claim_read(const char *dir, const char *id, cls_claim *out, char *err, size_t err_len) {
  memset(out, 0, sizeof *out);
  char path[4200], buf[CLS_CLAIM_MAX_BYTES + 1];
  if (cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_CLAIM, id) != CLS_OK)
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "no claim path for '%s'", id ? id : "");
  size_t len;
  if (!read_bytes(path, buf, sizeof buf, &len))
    return cls_errf(err, err_len, CLS_ERR_IO, "cannot read %s: %s", path, strerror(errno));
  if (len > CLS_CLAIM_MAX_BYTES)
    return cls_errf(err, err_len, CLS_ERR_FORMAT, "larger than %d bytes", CLS_CLAIM_MAX_BYTES);
  return cls_claim_parse(buf, len, out, err, err_len);
}

/* Writes text to path (a name of this process only) in full and flushed:
 * the claim must be whole before it is linked or renamed into place. */
static cls_status write_file(const char *path, const char *text, size_t len, char *err, size_t err_len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return cls_errf(err, err_len, CLS_ERR_IO, "cannot write %s: %s", path, strerror(errno));
  size_t done = 0;
  while (done < len) {
    ssize_t w = write(fd, text + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += (size_t)w;
  }
  int ok = done == len && fsync(fd) == 0;
  int saved = errno;
  if (close(fd) != 0) ok = 0;
  if (!ok) {
    unlink(path);
    return cls_errf(err, err_len, CLS_ERR_IO, "cannot write %s: %s", path, strerror(saved));
  }
  return CLS_OK;
}

/* link(from, to) as NFS needs it: a reply lost on the wire may report a
 * failure for a link that was made, so a failure other than EEXIST is
 * checked by the link count of the source (2: it was made). */
static int link_made(const char *from, const char *to, int *exists) {
  *exists = 0;
  if (link(from, to) == 0) return 1;
  int e = errno;
  struct stat sb;
  if (e != EEXIST && stat(from, &sb) == 0 && sb.st_nlink == 2) return 1;
  *exists = e == EEXIST;
  errno = e;
  return 0;
}

/* Whether a claim's holder is known to be gone: it ran on this host (the
 * same host name) and its pid is no longer a process here. Only on the
 * same host: a pid says nothing about another machine's processes. A
 * reused pid looks alive, and the claim is then left to its timeout. */
static int holder_gone(const cls_claim *found, const cls_claim *mine) {
  if (strcmp(found->host, mine->host) || !found->pid || found->pid == mine->pid ||
      found->pid > (uint64_t)INT32_MAX)
    return 0;
  return kill((pid_t)found->pid, 0) != 0 && errno == ESRCH;
}

int cls_claim_holder_gone(const cls_claim *c) {
  cls_claim me;
  memset(&me, 0, sizeof me);
  if (gethostname(me.host, sizeof me.host - 1) != 0) return 0;
  me.pid = (uint64_t)getpid();
  return holder_gone(c, &me);
}

cls_status cls_claim_take(const char *dir, cls_claim *mine, double timeout, cls_claim_outcome *outcome,
                          cls_claim *other, char *note, size_t note_len, char *err, size_t err_len) {
  *outcome = CLS_CLAIM_HELD;
  memset(other, 0, sizeof *other);
  if (note && note_len) note[0] = 0;
  char folder[4200], path[4200], tmp[4300], aside[4300];
  if (cls_rundir_path(folder, sizeof folder, dir, CLS_RUNDIR_CLAIMS, NULL) != CLS_OK ||
      cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_CLAIM, mine->id) != CLS_OK)
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "no claim path for '%s' in %s", mine->id, dir);
  cls_status st = cls_mkdirs(folder, err, err_len);
  if (st != CLS_OK) return st;
  snprintf(tmp, sizeof tmp, "%s.tmp.%llu", path, (unsigned long long)getpid());
  snprintf(aside, sizeof aside, "%s.stale.%llu", path, (unsigned long long)getpid());
  mine->taken = mine->heartbeat = cls_claim_clock();
  char text[CLS_CLAIM_MAX_BYTES];
  size_t len = cls_claim_format(mine, text, sizeof text);
  if (!len) return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "the claim of %s cannot be written", mine->id);
  st = write_file(tmp, text, len, err, err_len);
  if (st != CLS_OK) return st;
  int took_over = 0;
  /* A few rounds: between reading a claim and acting on it, another
   * process may remove or replace it. */
  for (int round = 0; round < 8 && st == CLS_OK; round++) {
    int exists;
    if (link_made(tmp, path, &exists)) {
      *outcome = took_over ? CLS_CLAIM_TOOK_OVER : CLS_CLAIM_TAKEN;
      break;
    }
    if (!exists) {
      st = cls_errf(err, err_len, CLS_ERR_IO, "cannot create %s: %s", path, strerror(errno));
      break;
    }
    char seen[CLS_CLAIM_MAX_BYTES + 1], why[256] = "";
    size_t seen_len;
    if (!read_bytes(path, seen, sizeof seen, &seen_len)) {
      if (errno == ENOENT) continue; /* released or renamed aside meanwhile: try again */
      st = cls_errf(err, err_len, CLS_ERR_IO, "cannot read %s: %s", path, strerror(errno));
      break;
    }
    cls_claim found;
    int parsed =
        seen_len <= CLS_CLAIM_MAX_BYTES && cls_claim_parse(seen, seen_len, &found, why, sizeof why) == CLS_OK;
    if (seen_len > CLS_CLAIM_MAX_BYTES) snprintf(why, sizeof why, "larger than %d bytes", CLS_CLAIM_MAX_BYTES);
    const double age = parsed ? cls_claim_clock() - found.heartbeat : INFINITY;
    const int gone = parsed && holder_gone(&found, mine);
    if (parsed && age <= timeout && !gone) {
      *other = found;
      break; /* HELD */
    }
    /* Stale or unreadable: rename it aside (of several takers, one
     * rename finds it), then check that what was moved is what was seen
     * — a taker that came first may have put a live claim there since. */
    if (rename(path, aside) != 0) {
      if (errno == ENOENT) continue;
      st = cls_errf(err, err_len, CLS_ERR_IO, "cannot move the stale claim %s aside: %s", path, strerror(errno));
      break;
    }
    char moved[CLS_CLAIM_MAX_BYTES + 1];
    size_t moved_len = 0;
    int same = read_bytes(aside, moved, sizeof moved, &moved_len) && moved_len == seen_len &&
               !memcmp(moved, seen, seen_len);
    if (!same) {
      /* Put the live claim back (unless its holder renewed it already),
       * and leave the point to it. */
      int ex;
      (void)link_made(aside, path, &ex);
      unlink(aside);
      cls_claim back;
      if (cls_claim_parse(moved, moved_len, &back, NULL, 0) == CLS_OK) *other = back;
      break; /* HELD */
    }
    unlink(aside);
    took_over = 1;
    if (parsed) {
      *other = found;
      char why_stale[96];
      if (age > timeout)
        snprintf(why_stale, sizeof why_stale, "no heartbeat for %.0f s (timeout %g s)", age, timeout);
      else
        snprintf(why_stale, sizeof why_stale, "its process is no longer running on this host");
      if (note && note_len)
        snprintf(note, note_len, "took over the stale claim of %s (host %s pid %llu%s%s%s%s): %s", mine->id,
                 found.host, (unsigned long long)found.pid, found.slurm_job[0] ? ", Slurm job " : "",
                 found.slurm_job, found.slurm_task[0] ? " task " : "", found.slurm_task, why_stale);
    } else if (note && note_len) {
      snprintf(note, note_len, "warning: %s is not a claim (%s): treated as stale and taken over", path, why);
    }
  }
  unlink(tmp);
  if (st == CLS_OK && *outcome != CLS_CLAIM_HELD) {
    /* The stale holder's renewal files, if it died writing one. */
    char leftover[4300];
    snprintf(leftover, sizeof leftover, "%s.tmp.%llu", path, (unsigned long long)other->pid);
    if (other->pid && other->pid != (uint64_t)getpid()) unlink(leftover);
  }
  return st;
}

cls_status cls_claim_renew(const char *dir, cls_claim *mine, uint64_t step, uint64_t total_steps, int *lost,
                           char *err, size_t err_len) {
  *lost = 0;
  cls_claim there;
  char why[256];
  cls_status st = cls_claim_read(dir, mine->id, &there, why, sizeof why);
  if (st == CLS_ERR_IO) {
    /* Gone: moved aside for a moment by a taker that then found it live
     * and puts it back, or released by a process that took it over and
     * finished the point. A second look tells them apart. */
    struct timespec pause = {0, 100000000L};
    nanosleep(&pause, NULL);
    st = cls_claim_read(dir, mine->id, &there, why, sizeof why);
  }
  if (st == CLS_ERR_IO) {
    *lost = 1;
    return CLS_OK;
  }
  if (st != CLS_OK || strcmp(there.token, mine->token)) {
    *lost = 1;
    return CLS_OK;
  }
  mine->heartbeat = cls_claim_clock();
  mine->step = step;
  mine->total_steps = total_steps;
  char path[4200], text[CLS_CLAIM_MAX_BYTES];
  cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_CLAIM, mine->id);
  size_t len = cls_claim_format(mine, text, sizeof text);
  if (!len) return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "the claim of %s cannot be written", mine->id);
  return cls_write_atomic(path, text, len, err, err_len);
}

void cls_claim_release(const char *dir, const cls_claim *mine) {
  cls_claim there;
  if (cls_claim_read(dir, mine->id, &there, NULL, 0) != CLS_OK || strcmp(there.token, mine->token)) return;
  char path[4200];
  if (cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_CLAIM, mine->id) == CLS_OK) unlink(path);
}

size_t cls_claim_remove_leftovers(const char *dir) {
  char folder[4200];
  if (cls_rundir_path(folder, sizeof folder, dir, CLS_RUNDIR_CLAIMS, NULL) != CLS_OK) return 0;
  DIR *d = opendir(folder);
  if (!d) return 0;
  size_t removed = 0;
  const double now = cls_claim_clock();
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    const char *t = strstr(e->d_name, ".claim.tmp.");
    if (!t || !t[11]) continue;
    uint64_t pid = 0;
    if (!parse_u64(t + 11, strlen(t + 11), &pid) || pid == 0 || pid == (uint64_t)getpid()) continue;
    char file[4500];
    snprintf(file, sizeof file, "%s/%s", folder, e->d_name);
    struct stat sb;
    /* A writer of this host that is gone, and a file older than any live
     * write takes (a claim is written and linked within milliseconds). */
    if (stat(file, &sb) != 0 || now - (double)sb.st_mtime < 2.0) continue;
    if (pid > (uint64_t)INT32_MAX || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
    if (unlink(file) == 0) removed++;
  }
  closedir(d);
  return removed;
}
