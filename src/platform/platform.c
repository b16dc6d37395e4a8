/* src/platform/platform.c — the registry of platforms built into this binary. */
#include "platform/platform.h"

#include <stdio.h>
#include <string.h>

static const tkms_platform_ops *const platforms[] = {&tkms_platform_sim, &tkms_platform_tpm2,
                                                     &tkms_platform_sgx, &tkms_platform_tdx,
                                                     &tkms_platform_snp};

const tkms_platform_ops *tkms_platform_find(const char *name) {
  if (name == NULL) return NULL;
  for (size_t i = 0; i < sizeof platforms / sizeof platforms[0]; i++) {
    if (strcmp(platforms[i]->name, name) == 0) return platforms[i];
  }
  return NULL;
}

int tkms_platform_open(const tkms_platform_ops *ops, const tkms_platform_cfg *cfg, tkms_platform *p,
                       char *err, size_t err_len) {
  if (err != NULL && err_len > 0) err[0] = '\0';
  if (ops == NULL || cfg == NULL || p == NULL) return -1;
  p->ops = ops;
  p->ctx = NULL;
  if (ops->open(cfg, &p->ctx, err, err_len) != 0) {
    if (err != NULL && err_len > 0 && err[0] == '\0')
      snprintf(err, err_len, "platform %s failed to open", ops->name);
    p->ops = NULL;
    return -1;
  }
  return 0;
}

void tkms_platform_close(tkms_platform *p) {
  if (p == NULL || p->ops == NULL) return;
  p->ops->close(p->ctx);
  p->ops = NULL;
  p->ctx = NULL;
}
