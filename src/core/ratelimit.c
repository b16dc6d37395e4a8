/* src/core/ratelimit.c — per-key signature budget per minute (ratelimit.h). */
#include "core/ratelimit.h"

#include <stdlib.h>
#include <string.h>

int tkms_rate_init(tkms_rate_table *t) {
  memset(t, 0, sizeof *t);
  return pthread_mutex_init(&t->mu, NULL) == 0 ? 0 : -1;
}

void tkms_rate_free(tkms_rate_table *t) {
  free(t->slots);
  pthread_mutex_destroy(&t->mu);
  memset(t, 0, sizeof *t);
}

/* Key ids are random (the core makes them): their first bytes hash well. */
static size_t slot_of(const uint8_t id[16], size_t cap) {
  uint64_t v;
  memcpy(&v, id, sizeof v);
  return (size_t)v & (cap - 1);
}

static tkms_rate_slot *find(tkms_rate_slot *s, size_t cap, const uint8_t id[16]) {
  for (size_t i = slot_of(id, cap), k = 0; k < cap; i = (i + 1) & (cap - 1), k++) {
    if (!s[i].used || memcmp(s[i].id, id, 16) == 0) return &s[i];
  }
  return NULL;
}

static int grow(tkms_rate_table *t) {
  size_t cap = t->cap ? t->cap * 2 : 64;
  if (cap > SIZE_MAX / sizeof *t->slots) return -1;
  tkms_rate_slot *s = calloc(cap, sizeof *s);
  if (s == NULL) return -1;
  for (size_t i = 0; i < t->cap; i++) {
    if (t->slots[i].used) *find(s, cap, t->slots[i].id) = t->slots[i];
  }
  free(t->slots);
  t->slots = s;
  t->cap = cap;
  return 0;
}

int tkms_rate_take(tkms_rate_table *t, const uint8_t id[16], uint32_t limit, uint64_t now) {
  if (limit == 0) return 0;
  uint64_t window = now / 60;
  int r = -1;
  pthread_mutex_lock(&t->mu);
  if (t->n + 1 > t->cap / 2 && grow(t) != 0 && t->cap == 0) goto out;
  tkms_rate_slot *s = find(t->slots, t->cap, id);
  if (s == NULL) goto out; /* full: only when growing failed */
  if (!s->used) {
    memset(s, 0, sizeof *s);
    memcpy(s->id, id, 16);
    s->used = 1;
    s->window = window;
    t->n++;
  }
  if (s->window != window) {
    s->window = window;
    s->count = 0;
  }
  if (s->count >= limit) {
    r = 1;
  } else {
    s->count++;
    r = 0;
  }
out:
  pthread_mutex_unlock(&t->mu);
  return r;
}
