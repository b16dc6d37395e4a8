// SPDX-License-Identifier: UNLICENSED
// contracts/BN254Registration.sol — the on-chain side of EigenLayer's BLS key registration
// and signature check, written here from the formulas in PROTOCOLS.md ("BN254 (alt_bn128)
// as EigenLayer uses it") so that keys and signatures made by tkms's C BN254 code can be
// shown to pass (and their forgeries to fail) on a real EVM (tests/evm/registration.test.mjs).
//
// This contract plays the registry coordinator: the EIP-712 domain's verifyingContract is
// its own address. All curve arithmetic goes through the precompiles 0x05 (modexp),
// 0x06 (G1 add), 0x07 (G1 mul) and 0x08 (pairing check).
// G2 points as BN254.G2Point: X = [x_imag, x_real], Y = [y_imag, y_real].
pragma solidity 0.8.28;

contract BN254Registration {
    struct G1Point {
        uint256 X;
        uint256 Y;
    }

    struct G2Point {
        uint256[2] X; // [imaginary, real]
        uint256[2] Y; // [imaginary, real]
    }

    struct PubkeyRegistrationParams {
        G1Point pubkeyRegistrationSignature; // sigma = sk * H
        G1Point pubkeyG1; // P = sk * G1
        G2Point pubkeyG2; // P' = sk * G2
    }

    uint256 internal constant FP_MODULUS =
        21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 internal constant FR_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    // (p + 1) / 4: beta^SQRT_EXP is a square root of beta whenever one exists (p = 3 mod 4).
    uint256 internal constant SQRT_EXP = 0xc19139cb84c680a6e14116da060561765e05aa45a1c72a34f082305b61f3f52;

    // The G2 generator; x = G2_X0 + G2_X1 * i, y = G2_Y0 + G2_Y1 * i (index 1 = imaginary).
    uint256 internal constant G2_X1 = 11559732032986387107991004021392285783925812861821192530917403151452391805634;
    uint256 internal constant G2_X0 = 10857046999023057135944570762232829481370756359578518086990519993285655852781;
    uint256 internal constant G2_Y1 = 4082367875863433681332203403145435568316851327593401208105741076214120093531;
    uint256 internal constant G2_Y0 = 8495653923123431417604973247489272438418190587263600148770280649306958101930;

    bytes32 public constant PUBKEY_REGISTRATION_TYPEHASH =
        0x2bd82124057f0913bc3b772ce7b83e8057c1ad1f3510fc83778be20f10ec5de6; // BN254PubkeyRegistration(address operator)
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    mapping(address => bytes32) public operatorToPubkeyHash;
    mapping(bytes32 => address) public pubkeyHashToOperator;

    event NewPubkeyRegistration(address indexed operator, bytes32 operatorId, G1Point pubkeyG1, G2Point pubkeyG2);

    // ---------------- field and curve helpers ----------------

    function g1Generator() public pure returns (G1Point memory) {
        return G1Point(1, 2);
    }

    function g2Generator() public pure returns (G2Point memory) {
        return G2Point([G2_X1, G2_X0], [G2_Y1, G2_Y0]);
    }

    /// -G2: the y coordinate negated in Fp2.
    function negG2Generator() public pure returns (G2Point memory) {
        return G2Point([G2_X1, G2_X0], [FP_MODULUS - G2_Y1, FP_MODULUS - G2_Y0]);
    }

    function negate(G1Point memory p) internal pure returns (G1Point memory) {
        if (p.X == 0 && p.Y == 0) return G1Point(0, 0);
        return G1Point(p.X, FP_MODULUS - (p.Y % FP_MODULUS));
    }

    function expMod(uint256 base, uint256 e, uint256 m) internal view returns (uint256) {
        (bool ok, bytes memory out) = address(0x05).staticcall(abi.encode(uint256(32), uint256(32), uint256(32), base, e, m));
        require(ok && out.length == 32, "modexp failed");
        return abi.decode(out, (uint256));
    }

    function plus(G1Point memory a, G1Point memory b) internal view returns (G1Point memory) {
        (bool ok, bytes memory out) = address(0x06).staticcall(abi.encode(a.X, a.Y, b.X, b.Y));
        require(ok && out.length == 64, "ec-add failed");
        (uint256 x, uint256 y) = abi.decode(out, (uint256, uint256));
        return G1Point(x, y);
    }

    function scalarMul(G1Point memory a, uint256 s) internal view returns (G1Point memory) {
        (bool ok, bytes memory out) = address(0x07).staticcall(abi.encode(a.X, a.Y, s));
        require(ok && out.length == 64, "ec-mul failed");
        (uint256 x, uint256 y) = abi.decode(out, (uint256, uint256));
        return G1Point(x, y);
    }

    /// e(a1, a2) * e(b1, b2) == 1 through precompile 0x08. pairingSuccessful is false when the
    /// precompile refuses its input (a point off the curve or out of the subgroup).
    function tryPairing(G1Point memory a1, G2Point memory a2, G1Point memory b1, G2Point memory b2)
        internal
        view
        returns (bool pairingSuccessful, bool result)
    {
        bytes memory input = abi.encode(
            a1.X, a1.Y, a2.X[0], a2.X[1], a2.Y[0], a2.Y[1], b1.X, b1.Y, b2.X[0], b2.X[1], b2.Y[0], b2.Y[1]
        );
        (bool ok, bytes memory out) = address(0x08).staticcall(input);
        if (!ok || out.length != 32) return (false, false);
        return (true, abi.decode(out, (uint256)) == 1);
    }

    /// hashToG1 as EigenLayer's BN254.sol: x = h mod p; loop { beta = x^3 + 3;
    /// y = beta^((p+1)/4); accept (x, y) if y^2 = beta, else x = x + 1 }. y is never negated.
    function hashToG1(bytes32 h) public view returns (G1Point memory) {
        uint256 x = uint256(h) % FP_MODULUS;
        while (true) {
            uint256 beta = addmod(mulmod(mulmod(x, x, FP_MODULUS), x, FP_MODULUS), 3, FP_MODULUS);
            uint256 y = expMod(beta, SQRT_EXP, FP_MODULUS);
            if (mulmod(y, y, FP_MODULUS) == beta) return G1Point(x, y);
            x = addmod(x, 1, FP_MODULUS);
        }
        revert("unreachable");
    }

    // ---------------- registration ----------------

    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("AVSRegistryCoordinator"), keccak256("v0.0.1"), block.chainid, address(this))
        );
    }

    /// The EIP-712 digest the operator's key signs at registration.
    function pubkeyRegistrationDigest(address operator) public view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(PUBKEY_REGISTRATION_TYPEHASH, operator));
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    /// H = hashToG1(the EIP-712 digest above).
    function pubkeyRegistrationMessageHash(address operator) public view returns (G1Point memory) {
        return hashToG1(pubkeyRegistrationDigest(operator));
    }

    /// The registration check: gamma = keccak256(sigma, P, P', H) mod r;
    /// e(sigma + gamma P, -G2) * e(H + gamma G1, P') == 1. False also for the zero key
    /// and for points the pairing precompile refuses.
    function verifyRegistration(address operator, PubkeyRegistrationParams memory params) public view returns (bool) {
        G1Point memory sigma = params.pubkeyRegistrationSignature;
        G1Point memory pk = params.pubkeyG1;
        G2Point memory pk2 = params.pubkeyG2;
        if (pk.X == 0 && pk.Y == 0) return false;
        G1Point memory h = pubkeyRegistrationMessageHash(operator);
        uint256 gamma = uint256(
            keccak256(
                abi.encode(sigma.X, sigma.Y, pk.X, pk.Y, pk2.X[0], pk2.X[1], pk2.Y[0], pk2.Y[1], h.X, h.Y)
            )
        ) % FR_MODULUS;
        (bool ok, bool valid) = tryPairing(
            plus(sigma, scalarMul(pk, gamma)), negG2Generator(), plus(h, scalarMul(g1Generator(), gamma)), pk2
        );
        return ok && valid;
    }

    /// Registers msg.sender's BLS key, as BLSApkRegistry.registerBLSPublicKey does when the
    /// registry coordinator passes it the operator and pubkeyRegistrationMessageHash(operator).
    function registerBLSPublicKey(PubkeyRegistrationParams calldata params) external returns (bytes32 operatorId) {
        operatorId = keccak256(abi.encodePacked(params.pubkeyG1.X, params.pubkeyG1.Y));
        require(operatorToPubkeyHash[msg.sender] == bytes32(0), "operator already registered");
        require(pubkeyHashToOperator[operatorId] == address(0), "public key already registered");
        require(verifyRegistration(msg.sender, params), "invalid registration signature");
        operatorToPubkeyHash[msg.sender] = operatorId;
        pubkeyHashToOperator[operatorId] = msg.sender;
        emit NewPubkeyRegistration(msg.sender, operatorId, params.pubkeyG1, params.pubkeyG2);
    }

    // ---------------- signature check ----------------

    /// BLSSignatureChecker.trySignatureAndApkVerification: gamma = keccak256(msgHash, apk,
    /// apkG2, sigma) mod r; e(sigma + gamma apk, -G2) * e(hashToG1(msgHash) + gamma G1, apkG2) == 1.
    function trySignatureAndApkVerification(bytes32 msgHash, G1Point memory apk, G2Point memory apkG2, G1Point memory sigma)
        public
        view
        returns (bool pairingSuccessful, bool signatureIsValid)
    {
        uint256 gamma = uint256(
            keccak256(
                abi.encode(
                    msgHash, apk.X, apk.Y, apkG2.X[0], apkG2.X[1], apkG2.Y[0], apkG2.Y[1], sigma.X, sigma.Y
                )
            )
        ) % FR_MODULUS;
        return tryPairing(
            plus(sigma, scalarMul(apk, gamma)), negG2Generator(), plus(hashToG1(msgHash), scalarMul(g1Generator(), gamma)), apkG2
        );
    }
}
