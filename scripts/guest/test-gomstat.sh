#!/bin/sh
# gomstat and the /sys/kernel/gomalloc layout, with the module loaded.
# (Contract: see /guest/run-tests.sh.)
#
# Runs on the idle module (test-sysfs.sh covers the files' modes, the shrink
# file and gomstat under a workload). Keeps for the host, in /out/:
# gomstat-idle.txt (gomstat -a), gomstat-idle.json and
# gomalloc-sysfs-idle.tar.gz (a gomstat --snapshot; unpack it and run
# "scripts/gomstat DIR").
G=/usr/bin/gomstat
S=/sys/kernel/gomalloc

ok()  { echo "ok - $*"; }
nok() { echo "not ok - $*"; }

# run WHAT CMD...: one test, passing if CMD exits 0; shows output on failure
run() {
	what=$1
	shift
	if "$@" > /tmp/gomstat.out 2>&1; then
		ok "$what"
	else
		nok "$what (exit $?)"
		head -20 /tmp/gomstat.out
	fi
}

if [ ! -f $G ] || ! command -v python3 > /dev/null; then
	ok "gomstat # SKIP no python3 or /usr/bin/gomstat in the initramfs"
	exit 0
fi
if [ ! -d $S/classes ]; then
	ok "gomstat # SKIP no $S/classes in this build"
	exit 0
fi
nclasses=$(ls $S/classes | wc -l)

run "gomstat runs by its #! line" $G --help
run "gomstat: table" python3 $G
if grep -q '^ *SIZE ' /tmp/gomstat.out && grep -q '^TOTAL ' /tmp/gomstat.out; then
	ok "gomstat: table has a header and a TOTAL row"
else
	nok "gomstat: table has a header and a TOTAL row"
	head -20 /tmp/gomstat.out
fi

run "gomstat -a: every class" sh -c \
	"python3 $G -a > /out/gomstat-idle.txt && grep '^$nclasses of $nclasses classes shown' /out/gomstat-idle.txt"

run "gomstat --json: valid, one entry per class, the new files, profile_rate and clients" sh -c \
	"python3 $G --json > /out/gomstat-idle.json && python3 -c '
import json, sys
d = json.load(open(\"/out/gomstat-idle.json\"))
assert len(d[\"classes\"]) == $nclasses
assert d[\"mem_limit\"] == 0 and isinstance(d[\"alloc_limited\"], int)
assert d[\"profile_rate\"] == 524288
for c in d[\"clients\"].values():
    assert all(isinstance(c[k], int) for k in (\"bytes_inuse\", \"objects_inuse\", \"allocs\"))
h = d[\"heap\"]
assert len(h[\"arenas_by_order\"]) == len(h[\"free_blocks\"])
assert isinstance(h[\"grow_fallbacks\"] + h[\"grow_failures\"], int)
for c in d[\"classes\"].values():
    assert {\"spans_owned\", \"spans_min\", \"spans_empty\",
            \"objects_total\"} <= set(c)'"

# The limit line: none by default, then a limit against the heap.
run "gomstat: no limit by default" grep -q '^limit:  no limit, heap ' /out/gomstat-idle.txt
echo 64M > $S/mem_limit
run "gomstat: mem_limit 64M shows as 64.0 MiB against the heap" sh -c \
	"python3 $G > /tmp/gomstat-limit.txt && grep '^limit:' /tmp/gomstat-limit.txt &&
	 grep -q '^limit:  64.0 MiB, heap .* ([0-9]*%)\$' /tmp/gomstat-limit.txt"
echo 0 > $S/mem_limit
head -8 /tmp/gomstat-limit.txt

# Every file of the live tree is one gomstat (and so the ABI document, which
# scripts/test_gomstat.py keeps in step with it) knows, and the other way.
run "sysfs files match the documented layout" python3 -c '
import importlib.machinery as m, importlib.util as u, os, sys
sys.dont_write_bytecode = True
l = m.SourceFileLoader("gomstat", "/usr/bin/gomstat")
g = u.module_from_spec(u.spec_from_loader("gomstat", l))
l.exec_module(g)
root = "/sys/kernel/gomalloc"
groups = {"": set(), "heap": set(), "stack": set(), "classes/*": set(),
          "clients/*": set()}
for dirpath, dirs, files in os.walk(root):
    rel = os.path.relpath(dirpath, root)
    rel = "" if rel == "." else rel
    if rel.startswith("classes/"):
        rel = "classes/*"
    if rel.startswith("clients/"):
        rel = "clients/*"
    if rel in groups:
        groups[rel] |= set(files)
    elif files:
        print("unexpected directory", rel)
        sys.exit(1)
kinds = set(g.FILE_KINDS) | g.WRITE_ONLY
want = {
    "": {"bytes_inuse", "bytes_cached", "bytes_heap", "metadata_bytes",
         "invalid_frees", "double_frees", "alloc_failures", "alloc_limited",
         "debug_reports", "faults_injected", "mem_limit", "profile_rate",
         "profile_unwinds", "profile_unwinds_saved",
         "shrink"},
    "heap": {"arenas", "arenas_by_order", "arena_bytes", "pages_total",
             "pages_inuse", "pages_free", "pages_released", "free_blocks",
             "large_spans", "large_bytes", "grow_fallbacks",
             "grow_failures"},
    "stack": {"stacks", "segments", "bytes_reserved", "bytes_inuse",
              "high_water"},
    "classes/*": {"object_size", "span_pages", "objects_per_span", "spans",
                  "spans_partial", "spans_full", "spans_owned", "spans_min",
                  "spans_empty", "objects_total", "objects_inuse",
                  "objects_free",
                  "objects_cached", "allocs", "frees", "refills", "flushes",
                  "occupancy"},
    "clients/*": {"bytes_inuse", "objects_inuse", "allocs"},
}
kinds |= set(g.CLIENT_KINDS)
# A client directory appears with its first sample: maybe none yet.
if not os.listdir(root + "/clients"):
    del groups["clients/*"], want["clients/*"]
    print("no client sampled yet")
bad = 0
for k, files in groups.items():
    for f in sorted(files - want[k]):
        print("undocumented:", (k + "/" if k else "") + f)
        bad = 1
    for f in sorted(want[k] - files):
        print("missing:", (k + "/" if k else "") + f)
        bad = 1
for names in want.values():
    bad |= bool(names - kinds)
sys.exit(bad)'

run "gomstat --check (idle module)" python3 $G --check

# (Modes and the shrink file's own behaviour are test-sysfs.sh's.)
echo 1 > $S/shrink
run "gomstat --check after shrink" python3 $G --check

rm -rf /tmp/gomalloc-sysfs
run "gomstat --snapshot, then read back" sh -c \
	"python3 $G --snapshot /tmp/gomalloc-sysfs &&
	 python3 $G --check /tmp/gomalloc-sysfs &&
	 tar -czf /out/gomalloc-sysfs-idle.tar.gz -C /tmp gomalloc-sysfs"

exit 0
