/* src/core/sandbox.c — process hardening and the seccomp allowlist (see sandbox.h). */
#include "core/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "platform/platform.h"

#if defined(__SANITIZE_ADDRESS__)
#define TKMS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TKMS_ASAN 1
#endif
#endif

int tkms_harden_early(char *err, size_t n) {
  pid_t parent = getppid();
  /* The host owns us: if it dies, so do we (no orphaned key holder). */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent || parent == 1) {
    snprintf(err, n, "parent already gone or PR_SET_PDEATHSIG failed");
    return -1;
  }
  struct rlimit no_core = {0, 0};
  if (prctl(PR_SET_DUMPABLE, 0) != 0 || setrlimit(RLIMIT_CORE, &no_core) != 0) {
    snprintf(err, n, "cannot disable core dumps: %s", strerror(errno));
    return -1;
  }
  if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
    snprintf(err, n, "cannot ignore SIGPIPE");
    return -1;
  }
#ifndef TKMS_ASAN
  /* Lock everything if allowed to; under the usual 8 MiB limit MCL_FUTURE would
   * make later allocations fail, so we rely on sodium_malloc (locked) for
   * secrets and lock the worker stacks (main.c) instead. ASan's shadow memory
   * cannot be locked at all. */
  struct rlimit ml;
  if (getrlimit(RLIMIT_MEMLOCK, &ml) == 0 && ml.rlim_cur == RLIM_INFINITY) {
    if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0)
      tkms_log("mlockall failed (%s); secrets stay in locked buffers", strerror(errno));
  }
#endif
  return 0;
}

/* Syscalls the worker threads and the allocator need after start-up. */
static const int allowed[] = {
    /* frames on the sockets, logs on stderr */
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(recvfrom),
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendto),
    SCMP_SYS(sendmsg),
    SCMP_SYS(close),
    /* the counter file (opened before the sandbox) */
    SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),
    SCMP_SYS(fdatasync),
    SCMP_SYS(fsync),
    /* memory: malloc, sodium_malloc (guard pages, mlock), thread exit */
    SCMP_SYS(brk),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    SCMP_SYS(mlock),
    SCMP_SYS(munlock),
    /* glibc malloc sizing a new per-thread arena (asks how many CPUs it may use) */
    SCMP_SYS(sched_getaffinity),
    /* threads and time */
    SCMP_SYS(futex),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(sched_yield),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    /* randomness (libsodium, libsecp256k1 context blinding) */
    SCMP_SYS(getrandom),
#ifdef TKMS_ASAN
    /* Only in sanitizer builds (tests): at exit LeakSanitizer stops the world with
     * a ptrace'ing helper (clone, ptrace, wait4), lists /proc/self/task and reads
     * /proc/self/maps. Never in a production build. */
    SCMP_SYS(sigaltstack),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(prctl),
    SCMP_SYS(clone),
    SCMP_SYS(ptrace),
    SCMP_SYS(wait4),
    SCMP_SYS(openat),
    SCMP_SYS(getdents64),
    SCMP_SYS(getdents),
    SCMP_SYS(getppid),
    SCMP_SYS(open),
    SCMP_SYS(lseek),
#endif
};

int tkms_sandbox_preload(char *err, size_t n) {
  /* OpenSSL's certificate and CRL time checks (DCAP evidence of attested
   * sessions) reach glibc's time zone code, which reads /etc/localtime the
   * first time: read it now, while files may still be opened. */
  tzset();
  time_t t0 = 0;
  struct tm tm0;
  if (localtime_r(&t0, &tm0) == NULL) {
    snprintf(err, n, "localtime_r failed");
    return -1;
  }
  if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1) {
    snprintf(err, n, "OpenSSL initialisation failed");
    return -1;
  }
  /* Fetching loads the provider; one digest per family the core uses. */
  static const char *const digests[] = {"SHA256", "SHA384", "SHA512"};
  for (size_t i = 0; i < sizeof digests / sizeof digests[0]; i++) {
    EVP_MD *md = EVP_MD_fetch(NULL, digests[i], NULL);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    int ok = md != NULL && EVP_Digest("", 0, out, &len, md, NULL) == 1;
    EVP_MD_free(md);
    if (!ok) {
      snprintf(err, n, "OpenSSL has no %s", digests[i]);
      return -1;
    }
  }
  return 0;
}

/* Platform extras (platform.h TKMS_SANDBOX_*), added only for the platform that
 * asks. TPM_IO: the TCTI talks to /dev/tpmrm0 (read/write/poll on the open
 * descriptor) or to swtpm, whose TCTI connects a new stream socket per command:
 * sockets of the unix and inet families only, and connect. FILES: Gramine's
 * /dev/attestation and configfs-tsm commit a write when the file is closed, so
 * each request reopens them: openat without O_CREAT, mkdirat/unlinkat (a
 * configfs-tsm report entry per request) and fstat. */
static int add_platform_rules(scmp_filter_ctx ctx, unsigned needs) {
  int rc = 0;
  if (needs & TKMS_SANDBOX_TPM_IO) {
    static const int fam[] = {AF_UNIX, AF_INET, AF_INET6};
    for (size_t i = 0; i < sizeof fam / sizeof fam[0] && rc == 0; i++)
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                            SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fam[i]));
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(connect), 0);
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(poll), 0);
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ppoll), 0);
  }
  if (needs & TKMS_SANDBOX_FILES) {
#ifndef TKMS_ASAN /* sanitizer builds allow every openat already */
    if (rc == 0)
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                            SCMP_A2(SCMP_CMP_MASKED_EQ, O_CREAT, 0));
#endif
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mkdirat), 0);
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(unlinkat), 0);
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fstat), 0);
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 0);
  }
  return rc;
}

int tkms_sandbox_install(unsigned needs, char *err, size_t n) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (ctx == NULL) {
    snprintf(err, n, "seccomp_init failed");
    return -1;
  }
  int rc = 0;
  for (size_t i = 0; i < sizeof allowed / sizeof allowed[0] && rc == 0; i++)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
  if (rc == 0) rc = add_platform_rules(ctx, needs);
  /* Memory may be mapped and re-protected, but never made executable: no new
   * code can appear in the core after start-up. */
  if (rc == 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
                          SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
  if (rc == 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                          SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
  /* All threads exist already (they wait at a gate): filter them all at once. */
  if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
  if (rc == 0) rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0) {
    snprintf(err, n, "installing the seccomp filter failed: %s", strerror(-rc));
    return -1;
  }
  return 0;
}
