/*
 * src/core/str.h — owned copies of strings that may be absent.
 */
#ifndef CLSCALE_CORE_STR_H
#define CLSCALE_CORE_STR_H

/* A malloc'd copy of s (free() it), or NULL when s is NULL; also NULL when
 * memory is short, which a caller that passed a non-NULL s must check. */
char *cls_strdup(const char *s);

#endif
