#!/usr/bin/env bash
# derive_read.test.sh - derived fields (`derive:` of a mapping source)
# are computed only where a loaded rule may read them, and every way a
# rule reads one keeps it: a detection field, a |fieldref target,
# keywords (which read every value), a correlation's group-by and value
# field. Each case loads only its own rules, so no other rule keeps the
# field alive, and tests the read on the value only the derived field
# holds (the raw record never says "telephony" or "amr" as a value).
set -u
B=$AW_BIN
[ -x "$B" ] || { echo "not ok - aupwatch binary missing at $B"; exit 0; }
command -v jq >/dev/null || { echo "skip - derived-field tests: jq missing"; exit 0; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
ok() { echo "ok - $1"; }
no() { echo "not ok - $1"; }
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }

# S3 data events: keys with a telephony (.amr) or a music (.mp3) extension
ev() { printf '{"eventVersion":"1.08","eventTime":"2026-01-01T00:00:%sZ","eventSource":"s3.amazonaws.com","eventName":"PutObject","awsRegion":"us-east-1","recipientAccountId":"111122223333","requestParameters":{"bucketName":"b","key":"calls/%s","ext":"%s"},"userIdentity":{"type":"IAMUser"}}\n' "$1" "$2" "$3"; }
{ ev 01 a.amr amr; ev 02 b.amr wav; ev 03 c.mp3 mp3; ev 04 d.amr amr; } > "$t/s3.jsonl"

rule() {    # rule NAME DETECTION-YAML
    printf 'title: %s\nid: %s\nauthor: aupwatch tests\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n%s\nlevel: high\n' \
        "$1" "$(cat /proc/sys/kernel/random/uuid)" "$2"
}
count() { "$B" scan -q --no-progress --rules "$1" "$t/s3.jsonl" | grep -c '"type":"detection"'; }

rule "ext read as a field" '  sel: {aw.object_ext: amr}
  condition: sel' > "$t/field.yml"
check "a detection field keeps it (3 .amr keys)" "[ $(count "$t/field.yml") -eq 3 ]"

rule "ext as a fieldref target" '  sel: {requestParameters.ext|fieldref: aw.object_ext}
  condition: sel' > "$t/ref.yml"
check "a |fieldref target keeps it (3 records whose ext is the key's)" "[ $(count "$t/ref.yml") -eq 3 ]"

rule "telephony anywhere" '  keywords: [telephony]
  condition: keywords' > "$t/kw.yml"
check "keywords keep every derived field (audio_class: telephony, 3 records)" "[ $(count "$t/kw.yml") -eq 3 ]"

# a correlation over every PutObject (the base rule in the same file)
corr() {    # corr FILE TITLE TYPE GROUP-BY CONDITION
    printf 'title: %s\nid: %s\nauthor: aupwatch tests\ncorrelation:\n  type: %s\n  rules: [puts]\n  group-by: [%s]\n  timespan: 1h\n  condition: %s\nlevel: high\n---\ntitle: Put object\nname: puts\nauthor: aupwatch tests\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {eventName: PutObject}\n  condition: sel\n' \
        "$2" "$(cat /proc/sys/kernel/random/uuid)" "$3" "$4" "$5" > "$1"
}

corr "$t/corr.yml" "Objects by extension" event_count aw.object_ext "{gte: 3}"
out=$("$B" scan -q --no-progress --rules "$t/corr.yml" "$t/s3.jsonl")
check "a correlation's group-by keeps it (3 amr in one group, the mp3 apart)" \
  "printf '%s\n' \"\$out\" | grep '\"type\":\"correlation\"' | jq -s -e 'length==1 and .[0].group[\"aw.object_ext\"]==\"amr\" and .[0].events==3' >/dev/null"

corr "$t/vc.yml" "Many distinct extensions" value_count recipientAccountId "{field: aw.object_ext, gte: 2}"
out=$("$B" scan -q --no-progress --rules "$t/vc.yml" "$t/s3.jsonl")
check "a correlation's value field keeps it (amr and mp3: 2 distinct)" \
  "printf '%s\n' \"\$out\" | grep '\"type\":\"correlation\"' | jq -s -e 'length==1 and .[0].value==2' >/dev/null"

# the same scans on threads (derived on workers, decided at commit)
check "on 3 threads: the same alerts" \
  "[ \"\$(\"$B\" scan -q -j 3 --no-progress --rules \"$t/kw.yml\" \"$t/s3.jsonl\")\" = \"\$(\"$B\" scan -q -j 1 --no-progress --rules \"$t/kw.yml\" \"$t/s3.jsonl\")\" ]"
