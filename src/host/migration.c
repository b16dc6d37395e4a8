/* src/host/migration.c — kept core binaries and migration (supervisor_priv.h).
 *
 * After every successful start the host keeps a copy of the core binary in
 * DATA/cores/<measurement>/ and notes that measurement in the store (meta
 * "core.measurement"). A new core that cannot unseal the DMK because its
 * measurement changed makes the host start the kept previous core beside it
 * (--migrate-source, counters read-only) and carry MIGRATE_NONCE / OFFER /
 * EXPORT / IMPORT between them; the old core decides (development deployment,
 * or an announcement whose time-lock has passed), the new one seals the DMK for
 * itself (docs/upgrades.md). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host/mutation.h"
#include "host/supervisor_priv.h"
#include "host/time_relay.h"
#include "proto/hex.h"
#include "proto/ops.h"

static int core_path(const tkms_core *c, const uint8_t m[32], const char *file, char *out,
                     size_t cap) {
  char hex[67];
  tkms_hex_encode(m, 32, hex);
  int r = file ? snprintf(out, cap, "%s/%s/%s/%s", c->data_dir, CORES_DIR, hex + 2, file)
               : snprintf(out, cap, "%s/%s/%s", c->data_dir, CORES_DIR, hex + 2);
  return (r < 0 || (size_t)r >= cap) ? -1 : 0;
}

static int copy_file(const char *from, const char *to) {
  int in = open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0) return -1;
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
  if (out < 0) {
    close(in);
    return -1;
  }
  char buf[65536];
  ssize_t r;
  int bad = 0;
  while ((r = read(in, buf, sizeof buf)) != 0) {
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      bad = 1;
      break;
    }
    for (ssize_t off = 0; off < r;) {
      ssize_t w = write(out, buf + off, (size_t)(r - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        bad = 1;
        break;
      }
      off += w;
    }
    if (bad) break;
  }
  if (!bad && (fchmod(out, 0500) != 0 || fsync(out) != 0)) bad = 1;
  close(in);
  if (close(out) != 0) bad = 1;
  return bad ? -1 : 0;
}

/* After a successful start: keep this core binary, so a later build can migrate
 * from it, and note its measurement. The copy is untrusted storage like the
 * rest of the data directory: a core started from it is measured anyway. */
static void keep_core_as(tkms_core *c, const uint8_t measurement[32]) {
  char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX + 8];
  if (core_path(c, measurement, NULL, dir, sizeof dir) != 0 ||
      core_path(c, measurement, "tkms-enclave", path, sizeof path) != 0)
    return;
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  char top[PATH_MAX];
  snprintf(top, sizeof top, "%s/%s", c->data_dir, CORES_DIR);
  if (access(path, X_OK) != 0) {
    if ((mkdir(top, 0700) != 0 && errno != EEXIST) || (mkdir(dir, 0700) != 0 && errno != EEXIST) ||
        copy_file(c->enclave_path, tmp) != 0 || rename(tmp, path) != 0) {
      fprintf(stderr,
              "tkms: warning: cannot keep a copy of the core in %s (%s): a later build will "
              "not be able to migrate from it\n",
              path, strerror(errno));
      unlink(tmp);
      return;
    }
  }
  uint8_t *v = NULL;
  size_t n = 0;
  int have = tkms_store_meta_get(c->store, META_CORE_MEASUREMENT, &v, &n);
  int same = have == TKMS_STORE_OK && n == 32 && memcmp(v, measurement, 32) == 0;
  if (have == TKMS_STORE_OK) tkms_store_free(v, n);
  if (!same && tkms_store_meta_put(c->store, META_CORE_MEASUREMENT, measurement, 32) != 0)
    fprintf(stderr, "tkms: warning: cannot note the core's measurement in the store\n");
}

void tkms_sup_keep_core(tkms_core *c) {
  if (c->migrate_source) return;
  tkms_core_info info;
  tkms_core_info_get(c, &info);
  keep_core_as(c, info.measurement);
}

/* One exchange on a channel; the answer must be OK. */
static int mig_call(tkms_chan *ch, tkms_fw *w, tkms_reply *rep, const char *what) {
  int rc = tkms_sup_call(ch, w, rep, what);
  tkms_fw_free(w);
  return rc;
}

static void print_refusal_help(const tkms_core *c, const char *a_path, int status) {
  if (status == TKMS_E_NOT_ANNOUNCED || status == TKMS_E_TIMELOCK)
    fprintf(stderr,
            "tkms: this build cannot take over yet. To keep serving meanwhile, start the current "
            "core again:\n"
            "        tkms serve --data-dir %s --enclave %s\n"
            "      (announcements are made through that running deployment: tkms governance "
            "announce / status)\n",
            c->data_dir, a_path);
}

/* B (on ch) cannot unseal. Hand it the deployment from the kept previous core A.
 * Returns START_OK with B in LOADING (the DMK it sealed is stored), or
 * START_REFUSED / START_RETRY with the reason printed. */
int tkms_sup_migrate(tkms_core *c, tkms_chan *ch) {
  tkms_fw w;
  tkms_reply rep;
  uint8_t mb[32], ma[32], nonce[32], pk[32];
  char hb[67], ha[67], a_path[PATH_MAX];
  int rc;
  /* Who is B? */
  if (tkms_fw_init(&w, TKMS_OP_STATUS, 0, 0) != 0) return START_RETRY;
  if ((rc = mig_call(ch, &w, &rep, "STATUS")) != START_OK) return rc;
  rc = tkms_frame_get_fixed(&rep.f, TKMS_F_MEASUREMENT, mb, 32);
  tkms_reply_free(&rep);
  if (rc != 0) return START_REFUSED;
  tkms_hex_encode(mb, 32, hb);
  uint8_t *v = NULL;
  size_t n = 0;
  int have = tkms_store_meta_get(c->store, META_CORE_MEASUREMENT, &v, &n);
  if (have == TKMS_STORE_OK && n == 32) memcpy(ma, v, 32);
  if (have == TKMS_STORE_OK) tkms_store_free(v, n);
  if (have != TKMS_STORE_OK || n != 32 || memcmp(ma, mb, 32) == 0 ||
      core_path(c, ma, "tkms-enclave", a_path, sizeof a_path) != 0 || access(a_path, X_OK) != 0) {
    fprintf(stderr,
            "tkms: the core %s cannot unseal the deployment master key in %s, and there is no "
            "kept previous core to migrate from (%s). It was sealed by a different core build "
            "or a different platform root secret; run the tkms-enclave binary that created "
            "this data directory, or restore the platform's root secret (sim: "
            "DATA_DIR/sim-root.key). tkms never creates a new identity over existing data.\n",
            hb, c->data_dir,
            have != TKMS_STORE_OK || n != 32 ? "the store does not name the previous core"
            : memcmp(ma, mb, 32) == 0        ? "the store names this very core"
                                             : "its copy under DATA_DIR/cores/ is missing");
    return START_REFUSED;
  }
  tkms_hex_encode(ma, 32, ha);
  fprintf(stderr,
          "tkms: the core %s cannot unseal the deployment sealed by the previous core %s; "
          "asking the previous core (%s) to hand it over\n",
          hb, ha, a_path);

  tkms_core *a = tkms_sup_alloc(a_path, c->data_dir, c->platform, 1, 0, c->store);
  if (a == NULL) return START_RETRY;
  a->migrate_source = 1;
  tkms_chan *cha = &a->chans[0];
  rc = tkms_sup_spawn(a, "--migrate-source") == 0 ? START_OK : START_REFUSED;
  if (rc == START_OK) {
    tkms_chan_lock(cha);
    rc = tkms_sup_load(a, cha);
    if (rc != START_OK) {
      /* Retrying would not help: the kept core cannot serve as a source. */
      fprintf(stderr,
              "tkms: the previous core %s could not load the deployment to hand it over (a "
              "core built before migration existed cannot; its copy may also be damaged). "
              "Start it as the current core (--enclave %s) or restore the data directory\n",
              ha, a_path);
      rc = START_REFUSED;
    }
    if (rc == START_OK) {
      /* A judges the time-lock by its own clock: with Roughtime configured it
       * needs a quorum first (a few rounds; without one, EXPORT is refused
       * with time_unavailable and the reason is printed below). */
      for (int i = 0; i < 5; i++) {
        int tr = tkms_time_round_held(cha);
        if (tr != TKMS_RT_ROUND_FAILED) break;
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
      }
    }
    if (rc == START_OK) {
      /* A: a fresh nonce; B: its key and evidence binding it. */
      rc = tkms_fw_init(&w, TKMS_OP_MIGRATE_NONCE, 0, 0) == 0 ? START_OK : START_RETRY;
      if (rc == START_OK) rc = mig_call(cha, &w, &rep, "MIGRATE_NONCE");
      if (rc == START_OK) {
        rc = tkms_frame_get_fixed(&rep.f, TKMS_F_NONCE, nonce, 32) == 0 ? START_OK : START_REFUSED;
        tkms_reply_free(&rep);
      }
    }
    tkms_reply repb = {0}, repa = {0};
    const uint8_t *evb = NULL;
    size_t evb_len = 0;
    if (rc == START_OK) {
      rc = tkms_fw_init(&w, TKMS_OP_MIGRATE_OFFER, 0, 0) == 0 ? START_OK : START_RETRY;
      if (rc == START_OK) {
        tkms_fw_bytes(&w, TKMS_F_NONCE, nonce, 32);
        rc = mig_call(ch, &w, &repb, "MIGRATE_OFFER");
      }
      if (rc == START_OK && (tkms_frame_get_fixed(&repb.f, TKMS_F_MIGRATE_PK, pk, 32) != 0 ||
                             tkms_frame_get(&repb.f, TKMS_F_EVIDENCE, &evb, &evb_len) != 0))
        rc = START_REFUSED;
    }
    if (rc == START_OK) {
      /* A decides. */
      rc = tkms_fw_init(&w, TKMS_OP_MIGRATE_EXPORT, 0, 0) == 0 ? START_OK : START_RETRY;
      if (rc == START_OK) {
        tkms_fw_bytes(&w, TKMS_F_MIGRATE_PK, pk, 32);
        tkms_fw_bytes(&w, TKMS_F_EVIDENCE, evb, evb_len);
        if (tkms_fw_finish(&w) != 0 || tkms_core_call(cha, &w, &repa) != 0) {
          fprintf(stderr, "tkms: MIGRATE_EXPORT: the previous core stopped answering\n");
          rc = START_REFUSED;
        } else if (repa.f.status != TKMS_OK) {
          char msg[512];
          tkms_reply_errmsg(&repa, msg, sizeof msg);
          fprintf(stderr,
                  "tkms: the previous core %s refused to hand the deployment to %s (status "
                  "%u): %s\n",
                  ha, hb, repa.f.status, msg);
          print_refusal_help(c, a_path, repa.f.status);
          rc = START_REFUSED;
        }
        tkms_fw_free(&w);
      }
    }
    const uint8_t *ct = NULL, *eva = NULL, *salt = NULL, *ann = NULL;
    size_t ct_len = 0, eva_len = 0, salt_len = 0, ann_len = 0;
    if (rc == START_OK && (tkms_frame_get(&repa.f, TKMS_F_MIGRATE_CT, &ct, &ct_len) != 0 ||
                           tkms_frame_get(&repa.f, TKMS_F_EVIDENCE, &eva, &eva_len) != 0 ||
                           tkms_frame_get(&repa.f, TKMS_F_DEPLOY_SALT, &salt, &salt_len) != 0)) {
      fprintf(stderr, "tkms: MIGRATE_EXPORT: the previous core's answer is incomplete\n");
      rc = START_REFUSED;
    }
    if (rc == START_OK) {
      /* Keep A's sealed DMK beside: a way back to A (by another migration)
       * needs nothing but it, and it costs nothing. */
      char key[80];
      snprintf(key, sizeof key, "dmk.%s", ha + 2);
      if (tkms_store_meta_get(c->store, TKMS_STORE_META_DMK, &v, &n) == TKMS_STORE_OK) {
        if (tkms_store_meta_put(c->store, key, v, n) != TKMS_STORE_OK)
          fprintf(stderr, "tkms: warning: cannot keep the previous sealed DMK as %s\n", key);
        tkms_store_free(v, n);
      }
      /* B imports: a two-phase mutation that stores B's sealed DMK. */
      tkms_resp resp = {0};
      tkms_reply repi;
      rc = tkms_fw_init(&w, TKMS_OP_MIGRATE_IMPORT, 0, 0) == 0 ? START_OK : START_RETRY;
      if (rc == START_OK) {
        tkms_fw_bytes(&w, TKMS_F_MIGRATE_CT, ct, ct_len);
        tkms_fw_bytes(&w, TKMS_F_EVIDENCE, eva, eva_len);
        tkms_fw_bytes(&w, TKMS_F_DEPLOY_SALT, salt, salt_len);
        int r = tkms_fw_finish(&w) == 0 ? tkms_mutate(ch, c->store, &w, NULL, NULL, &repi, &resp)
                                        : TKMS_MUT_FAILED;
        tkms_fw_free(&w);
        if (r == TKMS_MUT_REFUSED) {
          char msg[512];
          tkms_reply_errmsg(&repi, msg, sizeof msg);
          fprintf(stderr, "tkms: the new core %s refused the deployment (status %u): %s\n", hb,
                  repi.f.status, msg);
          rc = START_REFUSED;
        } else if (r != TKMS_MUT_OK) {
          fprintf(stderr, "tkms: MIGRATE_IMPORT failed: %s\n", resp.body ? resp.body : "?");
          rc = START_REFUSED;
        } else {
          /* The stored DMK is B's from now on: B is the current core, even if
           * loading the records below fails and is retried. */
          keep_core_as(c, mb);
        }
        tkms_reply_free(&repi);
        tkms_resp_clear(&resp);
      }
    }
    if (rc == START_OK) {
      uint64_t acc = 0, eff = 0;
      if (tkms_frame_get(&repa.f, TKMS_F_GOV_ANNOUNCEMENT, &ann, &ann_len) == 0 && ann_len == 48) {
        acc = tkms_be64_get(ann + 32);
        eff = tkms_be64_get(ann + 40);
        fprintf(stderr, "tkms: migrated from %s to %s (announced at %llu, effective at %llu)\n", ha,
                hb, (unsigned long long)acc, (unsigned long long)eff);
      } else {
        fprintf(stderr,
                "tkms: migrated from %s to %s (development deployment: no announcement "
                "needed)\n",
                ha, hb);
      }
    }
    tkms_reply_free(&repa);
    tkms_reply_free(&repb);
    tkms_core_release(cha);
  }
  atomic_store(&a->stopping, 1);
  tkms_sup_kill_and_reap(a);
  tkms_sup_free(a);
  return rc;
}
