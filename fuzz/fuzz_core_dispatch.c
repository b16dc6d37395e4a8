/* fuzz/fuzz_core_dispatch.c — libFuzzer harness for the trusted core's whole
 * input surface: arbitrary frames into tkms_core_dispatch of an initialised core
 * (sim platform in a temporary directory). Whatever the bytes, the core must
 * answer with a well-formed frame and never crash; a prepared transaction is
 * aborted after each input so the state stays the same between runs.
 * FUZZ_ROOMS: proto crypto platform attest core */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "platform/platform.h"
#include "proto/frame.h"
#include "proto/ops.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tkms_core *core;
static char dir[] = "/tmp/tkms-fuzz-XXXXXX";

/* The sim platform's files live in a temporary directory: remove it at exit. */
static void cleanup(void) {
  char path[sizeof dir + 32];
  snprintf(path, sizeof path, "%s/sim-root.key", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/sim-counter", dir);
  unlink(path);
  rmdir(dir);
}

static int call(tkms_conn *conn, uint16_t op, tkms_frame *out, tkms_fw *resp) {
  tkms_fw req;
  if (tkms_fw_init(&req, op, 0, 1) != 0 || tkms_fw_finish(&req) != 0) return -1;
  int r = tkms_core_dispatch(conn, req.buf + 4, req.len - 4, resp);
  tkms_fw_free(&req);
  if (r != 0 || tkms_frame_parse(resp->buf + 4, resp->len - 4, out) != 0) return -1;
  return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (mkdtemp(dir) == NULL) abort();
  atexit(cleanup);
  static char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) abort();
  exe[n] = '\0';
  tkms_platform_cfg cfg = {.data_dir = dir, .init = 1, .exe_path = exe};
  tkms_platform plat;
  char err[TKMS_PLATFORM_ERR_MAX];
  if (tkms_platform_open(&tkms_platform_sim, &cfg, &plat, err, sizeof err) != 0) {
    fprintf(stderr, "platform: %s\n", err);
    abort();
  }
  if (tkms_core_new(&plat, 1, &core) != 0) abort();
  /* INIT then COMMIT, so the fuzzer reaches the authorised ops of a ready core. */
  tkms_conn conn;
  tkms_conn_init(&conn, core);
  tkms_frame f;
  tkms_fw resp;
  if (call(&conn, TKMS_OP_INIT, &f, &resp) != 0 || f.status != TKMS_OK) abort();
  uint64_t txid;
  if (tkms_frame_get_u64(&f, TKMS_F_TXID, &txid) != 0) abort();
  tkms_fw_free(&resp);
  tkms_fw req;
  if (tkms_fw_init(&req, TKMS_OP_COMMIT, 0, 2) != 0) abort();
  tkms_fw_u64(&req, TKMS_F_TXID, txid);
  if (tkms_fw_finish(&req) != 0) abort();
  if (tkms_core_dispatch(&conn, req.buf + 4, req.len - 4, &resp) != 0) abort();
  if (tkms_frame_parse(resp.buf + 4, resp.len - 4, &f) != 0 || f.status != TKMS_OK) abort();
  tkms_fw_free(&req);
  tkms_fw_free(&resp);
  tkms_conn_close(&conn);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tkms_conn conn;
  tkms_conn_init(&conn, core);
  tkms_fw resp;
  if (tkms_core_dispatch(&conn, data, size, &resp) == 0) {
    tkms_frame f;
    /* The answer is always a well-formed frame. */
    if (tkms_frame_parse(resp.buf + 4, resp.len - 4, &f) != 0) __builtin_trap();
    tkms_fw_free(&resp);
  }
  tkms_conn_close(&conn); /* aborts a prepared transaction, releasing the lock */
  return 0;
}
