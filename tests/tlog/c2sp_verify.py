#!/usr/bin/env python3
"""c2sp_verify.py LOGDIR VKEY - an independent check of an aupwatch
decision log, written from the specifications only (C2SP tlog-tiles,
tlog-checkpoint and signed-note, RFC 6962), sharing no code with
src/tlog: the checkpoint's Ed25519 signature under the verifier key,
every entry bundle, every hash tile of every level, and the root.
Prints one line and exits 0, or names what is wrong and exits 1."""
import base64
import hashlib
import os
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def fail(why):
    print("c2sp_verify: " + why)
    sys.exit(1)


def tile_path(n):
    """N as in tlog-tiles: 3-digit elements, all but the last with an x."""
    s = "%03d" % (n % 1000)
    n //= 1000
    while n:
        s = "x%03d/" % (n % 1000) + s
        n //= 1000
    return s


def mth(h):
    """RFC 6962 Merkle tree hash over leaf hashes h."""
    if len(h) == 1:
        return h[0]
    k = 1
    while k * 2 < len(h):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(h[:k]) + mth(h[k:])).digest()


def read(d, rel):
    try:
        with open(os.path.join(d, rel), "rb") as f:
            return f.read()
    except OSError as e:
        fail("%s: %s" % (rel, e.strerror))


def main(d, vkey):
    name, kid_hex, key_b64 = vkey.strip().split("+", 2)
    key = base64.b64decode(key_b64)
    if key[0] != 1 or len(key) != 33:
        fail("verifier key is not an Ed25519 key")
    kid = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
    if kid.hex() != kid_hex:
        fail("verifier key hash %s, computed %s" % (kid_hex, kid.hex()))

    note = read(d, "checkpoint")
    if b"\n\n" not in note:
        fail("checkpoint: no blank line before the signatures")
    text, sigs = note.split(b"\n\n", 1)
    text += b"\n"
    lines = text.decode().split("\n")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2])
    signed = False
    for line in sigs.decode().splitlines():
        if not line.startswith("\u2014 "):
            fail("checkpoint: signature line without the em dash")
        who, sig = line[2:].split(" ")
        raw = base64.b64decode(sig)
        if who == name and raw[:4] == kid:
            try:
                Ed25519PublicKey.from_public_bytes(key[1:]).verify(raw[4:], text)
            except Exception:
                fail("checkpoint: the signature of %s does not verify" % name)
            signed = True
    if not signed:
        fail("checkpoint: no signature by %s" % name)
    if origin != name:
        fail("checkpoint origin %s, key %s" % (origin, name))

    # entries, from the bundles (uint16 big-endian length, then the bytes)
    leaves = []
    full, part = divmod(size, 256)
    for n in range(full + (1 if part else 0)):
        rel = "tile/entries/" + tile_path(n) + ("" if n < full else ".p/%d" % part)
        b, i, count = read(d, rel), 0, 0
        while i < len(b):
            if i + 2 > len(b):
                fail(rel + ": truncated length")
            ln = int.from_bytes(b[i:i + 2], "big")
            if i + 2 + ln > len(b):
                fail(rel + ": truncated entry")
            leaves.append(hashlib.sha256(b"\x00" + b[i + 2:i + 2 + ln]).digest())
            i += 2 + ln
            count += 1
        if count != (256 if n < full else part):
            fail("%s: %d entries" % (rel, count))

    # every level's tiles: level L holds the roots of 256^L-leaf subtrees
    level, hashes, ntiles = 0, leaves, 0
    while hashes:
        f, p = divmod(len(hashes), 256)
        for n in range(f + (1 if p else 0)):
            rel = "tile/%d/" % level + tile_path(n) + ("" if n < f else ".p/%d" % p)
            if read(d, rel) != b"".join(hashes[n * 256:n * 256 + 256]):
                fail(rel + ": hashes differ from the entries'")
            ntiles += 1
        hashes = [mth(hashes[i:i + 256]) for i in range(0, f * 256, 256)]
        level += 1
    if size and mth(leaves) != root:
        fail("root differs from the entries' RFC 6962 hash")
    print("c2sp_verify: %s size %d: signature, %d hash tiles on %d levels and the root check out"
          % (origin, size, ntiles, level))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: c2sp_verify.py LOGDIR VKEY-FILE", file=sys.stderr)
        sys.exit(2)
    with open(sys.argv[2]) as vk:
        main(sys.argv[1], vk.read())
