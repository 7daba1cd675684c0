#!/usr/bin/env python3
"""profile_shares.py - where a scan's time goes, by component, from a
`perf record --call-graph fp` of aupwatch built with frame pointers
(bench/profile.sh runs both).

Each sample is given to the first component, in the order below, that
its stack matches: a function on the stack, or the sampled function
itself where a leaf runs before its frame is set up. Prints the shares,
largest first, and the leaves left unassigned ("other").

    python3 bench/profile_shares.py perf.data [--thread TID]
"""
import collections
import subprocess
import sys

ON_STACK = lambda *names: (lambda syms, dsos: any(s in names for s in syms))
LEAF = lambda *names: (lambda syms, dsos: bool(syms) and syms[0] in names)
LEAF_PREFIX = lambda *p: (lambda syms, dsos: bool(syms) and syms[0].startswith(p))

COMPONENTS = [
    ("SHA-256 of the alerting records",
     lambda syms, dsos: any("IPSec" in d for d in dsos) or any(s.startswith("aw_sha256") for s in syms)),
    ("read() from the page cache",
     lambda syms, dsos: any(s in ("aw_src_read", "aw_range_read", "read", "__libc_read", "pread64", "__libc_pread64")
                            or s.startswith(("ksys_read", "vfs_read", "ksys_pread")) for s in syms)),
    ("decompression", ON_STACK("aw_src_decode", "decode_chunk", "decoder")),
    ("parsing", ON_STACK("aw_doc_parse")),
    ("drops and derived fields", LEAF("prepare.part.0", "aw_jpath_drop", "fmt_from")),
    ("classification", LEAF("source_has.constprop.0", "slot_lookup.isra.0", "node_matches",
                            "mp_index_narrow", "mp_index_lookup")),
    ("field lookups (path walks)", LEAF("jpath_run")),
    ("commit and writing the alerts", LEAF_PREFIX("_IO_f", "_IO_file")),
    ("rule evaluation", LEAF_PREFIX("pcre2")),
    ("classification", ON_STACK("aw_mapping_classify")),
    ("drops and derived fields", ON_STACK("aw_mapping_prepare", "aw_mapping_prepare_spec", "mp_derive_apply",
                                          "aw_mapping_own_set")),
    ("keyword scan of the raw record", lambda syms, dsos: "aw_prefilter_scan" in syms and "scan_field" not in syms),
    ("literal scan of field values (Hyperscan, value table)", ON_STACK("scan_field")),
    ("alerts (time, tenant, rendering, correlation extract)", ON_STACK("on_hit", "render_direct")),
    ("rule evaluation", ON_STACK("aw_match_prule")),
    ("field lookups (path walks)", ON_STACK("aw_match_field", "aw_fgroup_lookup")),
    ("candidate bookkeeping (dispatch, clauses, postings)", ON_STACK("aw_matcher_eval_sources")),
    ("commit and writing the alerts", ON_STACK("commit_batch", "sc_submit", "sc_drain", "aw_out_rendered",
                                               "fwrite", "write", "__libc_write")),
    ("framing and cutting lines", lambda syms, dsos: any(s in ("aw_reader_next", "aw_input_newlines", "aw_fr_skip_ws",
                                                               "chunk_cut") for s in syms)
                                                     or (bool(syms) and "memchr" in syms[0])),
]


def samples(path, tid):
    cmd = ["perf", "script", "-i", path, "-F", "tid,ip,sym,dso"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for block in out.split("\n\n"):
        lines = [l.strip() for l in block.strip().split("\n") if l.strip()]
        if not lines:
            continue
        if tid is not None and lines[0].split()[0] != str(tid):
            continue
        syms, dsos = [], []
        for l in lines[1:]:
            parts = l.split(None, 1)
            if len(parts) < 2:
                continue
            rest = parts[1]
            cut = rest.rfind("(")
            sym, dso = (rest[:cut].strip(), rest[cut + 1:-1]) if cut >= 0 else (rest, "")
            syms.append(sym.split("+0x")[0])
            dsos.append(dso)
        yield syms, dsos


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    tid = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--thread" else None
    count, other, total = collections.Counter(), collections.Counter(), 0
    for syms, dsos in samples(sys.argv[1], tid):
        total += 1
        for name, match in COMPONENTS:
            if match(syms, dsos):
                count[name] += 1
                break
        else:
            count["other"] += 1
            other[syms[0] if syms else "?"] += 1
    if not total:
        sys.exit("profile_shares: no samples in %s" % sys.argv[1])
    for name, n in count.most_common():
        print("%5.1f %%  %s" % (100.0 * n / total, name))
    print("%d samples; other: %s" % (total, ", ".join("%s %d" % kv for kv in other.most_common(6))))


if __name__ == "__main__":
    main()
