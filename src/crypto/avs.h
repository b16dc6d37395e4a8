/* src/crypto/avs.h — EigenLayer's uses of BN254 (eigenlayer-middleware), bit-exact.
 * Pure functions over public data; no secrets pass through here.
 *
 * Registration (RegistryCoordinator.pubkeyRegistrationMessageHash):
 *   digest = EIP-712 digest of BN254PubkeyRegistration(address operator) under
 *   EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)
 *   = ("AVSRegistryCoordinator", "v0.0.1", chainId, registry coordinator);
 *   H = hashToG1(digest).
 * operatorId = keccak256(pk.X || pk.Y) of the G1 public key.
 * Signature check (BLSSignatureChecker.trySignatureAndApkVerification), G2 points in
 * precompile order (X[0] = x_imag first):
 *   gamma = keccak256(msgHash, apk.X, apk.Y, apkG2.X[0], apkG2.X[1], apkG2.Y[0],
 *                     apkG2.Y[1], sigma.X, sigma.Y) mod r;
 *   e(sigma + gamma * apk, -G2) * e(hashToG1(msgHash) + gamma * G1, apkG2) == 1. */
#ifndef TKMS_CRYPTO_AVS_H
#define TKMS_CRYPTO_AVS_H
#include <stdint.h>

#define TKMS_AVS_DOMAIN_NAME "AVSRegistryCoordinator"
#define TKMS_AVS_DOMAIN_VERSION "v0.0.1"
#define TKMS_AVS_DOMAIN_TYPE \
  "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
#define TKMS_AVS_REGISTRATION_TYPE "BN254PubkeyRegistration(address operator)"

/* The EIP-712 digest EigenLayer hashes to G1 for operator's registration.
 * chain_id: uint256 big-endian. Returns 0. */
int tkms_avs_registration_digest(const uint8_t chain_id[32], const uint8_t coordinator[20],
                                 const uint8_t operator_addr[20], uint8_t digest[32]);
/* H = hashToG1(tkms_avs_registration_digest(...)), 64 bytes x || y. Returns 0. */
int tkms_avs_registration_point(const uint8_t chain_id[32], const uint8_t coordinator[20],
                                const uint8_t operator_addr[20], uint8_t point[64]);
/* keccak256(g1.X || g1.Y). */
void tkms_avs_operator_id(const uint8_t g1[64], uint8_t id[32]);

enum { TKMS_AVS_VALID = 1, TKMS_AVS_INVALID = 0 };
/* EigenLayer's signature check of sigma over msg_hash for the public key pk =
 * G1 (64) || G2 (128). Returns TKMS_AVS_VALID, TKMS_AVS_INVALID, or -1 if an
 * input is not a valid point (coordinate >= p, off the curve, G2 outside the
 * subgroup) or a public key half is infinity; *why then names the input. */
int tkms_avs_verify(const uint8_t pk[192], const uint8_t msg_hash[32], const uint8_t sigma[64],
                    const char **why);
#endif
