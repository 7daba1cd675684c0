/* cmd_scan.c - `aupwatch scan`: rules over log files, alerts out. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/picture.h"
#include "cli/scanner.h"

static const char scan_usage[] =
    "usage: aupwatch scan [options] --rules PATH [--rules PATH...] INPUT...\n"
    "\n"
    "Evaluate Sigma rules over log files and print one alert per matching\n"
    "record. INPUT is a file, a directory (read recursively) or - for stdin;\n"
    "JSON Lines, JSON arrays, CloudTrail {\"Records\":[...]} files and\n"
    "concatenated JSON objects are read, gzip and zstd are detected.\n"
    "\n"
    "options:\n"
    "  -r, --rules PATH         rule file or directory (repeatable; required)\n"
    "  -m, --mapping PATH       extra field-mapping file or directory (repeatable)\n"
    "      --no-builtin-mappings  use only --mapping files\n"
    "      --placeholders FILE  values for |expand placeholders (YAML map)\n"
    "      --pseudonym-key-file FILE  HMAC key for pseudonymised fields\n"
    "                           (default: $AUPWATCH_PSEUDONYM_KEY)\n"
    "  -f, --format FMT         json (default), text or sarif\n"
    "  -o, --output FILE        write alerts to FILE instead of stdout\n"
    "  -j, --threads N          evaluation threads (default: online CPUs, at most 16);\n"
    "                           output is identical for every N (the stateful\n"
    "                           aw.key_own_side is decided in input order); at\n"
    "                           start-up they compile the literal prefilter\n"
    "      --explain            add the matched identifiers, fields and values\n"
    "      --stats-json FILE    write the end-of-scan summary as JSON\n"
    "      --picture FILE.svg   draw the alerts: over event time by level, top tenants,\n"
    "                           top rules (an SVG any browser opens)\n"
    "      --max-record BYTES   largest record accepted (default 16 MiB)\n"
    "      --strict             exit 1 if a rule was rejected or a record malformed\n"
    "      --corr-max-groups N  correlation groups kept per correlation rule; beyond,\n"
    "                           the least recently seen is evicted (default 100000)\n"
    "      --corr-max-values N  events / distinct values kept exactly per group; beyond,\n"
    "                           state is approximated, alerts flagged (default 1024)\n"
    "      --corr-lateness T    accepted out-of-order lateness within one correlation\n"
    "                           group, in event time: seconds, or 90s, 5m, 1h (default\n"
    "                           5m); later events are counted, not correlated\n"
    "      --corr-refire P      after a correlation fires for a group: reset (default:\n"
    "                           the next alert needs fresh events) or keep (fire again\n"
    "                           on every event while the condition holds)\n"
    "      --no-progress        never draw progress on stderr\n"
    "  -q, --quiet              no per-problem messages and no summary\n"
    "\n"
    "exit: 0 scan completed, 1 --strict and problems, 2 usage or unreadable input\n";

typedef struct scanctx {
    aw_out *out;
    unsigned long long corr_alerts;
    aw_picture *pic;            /* --picture */
} scanctx;

/* Correlation alerts: intermediate ones (a correlation referenced by
 * another without generate: true) are not shown. */
static void emit_corr(void *ud, const aw_correlation_alert *a)
{
    scanctx *sc = ud;
    if (a->correlation_only)
        return;
    sc->corr_alerts++;
    aw_out_correlation(sc->out, a);
    if (sc->pic)
        aw_picture_add(sc->pic, true, a->end_ns, aw_rule_level(a->rule), a->tenant, aw_rule_title(a->rule), true);
}

/* "300", "90s", "5m", "1h" -> seconds; -1 if malformed. */
static long long parse_secs(const char *v)
{
    char *end;
    long long n = strtoll(v, &end, 10);
    if (end == v || n < 0)
        return -1;
    if (!*end || !strcmp(end, "s"))
        return n;
    if (!strcmp(end, "m"))
        return n * 60;
    if (!strcmp(end, "h"))
        return n * 3600;
    return -1;
}

static void write_corr_stats(FILE *f, const aw_scan_stats *st)
{
    const aw_correlator_stats *c = &st->corr;
    fprintf(f, ",\"correlation\":{\"correlation_alerts\":%llu,\"correlation_alerts_all\":%llu,\"events\":%llu,"
               "\"late_events\":%llu,\"missing_time\":%llu,\"missing_group_field\":%llu,"
               "\"evicted_groups\":%llu,\"evicted_groups_live\":%llu,\"approximated_groups\":%llu,"
               "\"forced_early\":%llu,\"peak_groups\":%llu}",
            st->corr_alerts, (unsigned long long)c->alerts, (unsigned long long)c->events,
            (unsigned long long)c->late, (unsigned long long)c->no_time, (unsigned long long)c->no_group,
            (unsigned long long)c->evicted_groups, (unsigned long long)c->evicted_live,
            (unsigned long long)c->approximated_groups, (unsigned long long)c->forced,
            (unsigned long long)c->peak_groups);
}

static void emit(void *ud, const aw_alert *a, const aw_hit *h)
{
    scanctx *sc = ud;
    (void)h;
    if (a->rendered)
        aw_out_rendered(sc->out, a->rendered, a->rendered_len, a->record_at, a->record, a->line);
    else
        aw_out_alert(sc->out, a);
    if (sc->pic)
        aw_picture_add(sc->pic, a->has_time, a->time_ns, aw_rule_level(a->rule), a->tenant,
                       aw_rule_title(a->rule), false);
}

static void write_stats(FILE *f, const aw_scan_stats *st, const aw_engine *e, const aw_diags *rd,
                        const aw_diags *id, double secs)
{
    static const char *const lv[] = {"informational", "low", "medium", "high", "critical", "none"};
    fprintf(f, "{\"files\":%llu,\"records\":%llu,\"malformed\":%llu,\"malformed_by_reason\":{",
            st->files, st->records, st->malformed);
    for (size_t i = 0; i < id->n; i++)
        fprintf(f, "%s\"%s\":%lu", i ? "," : "", id->k[i].kind, id->k[i].n);
    fprintf(f, "},\"rules_loaded\":%zu,\"rules_rejected\":%zu,\"rules_active\":%zu,\"rule_problems_by_reason\":{",
            aw_ruleset_count(e->rs), aw_ruleset_rejected(e->rs), aw_plan_rule_count(e->plan));
    for (size_t i = 0; i < rd->n; i++)
        fprintf(f, "%s\"%s\":%lu", i ? "," : "", rd->k[i].kind, rd->k[i].n);
    fprintf(f, "},\"alerts\":%llu,\"alerts_by_level\":{", st->alerts);
    for (int i = 0; i < 6; i++)
        fprintf(f, "%s\"%s\":%llu", i ? "," : "", lv[i], st->by_level[i]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(f, "},\"correlation_only_hits\":%llu,\"bytes_read\":%llu,\"bytes_decompressed\":%llu,"
               "\"seconds\":%.3f,\"mb_per_s\":%.2f,\"events_per_s\":%.0f,\"max_rss_kb\":%ld,"
               "\"threads\":%d,\"own_side_decided_at_commit\":%llu,\"own_side_reevaluated\":%llu,"
               "\"records_framed_by_calling_thread\":%llu,\"files_read_whole_by_a_worker\":%llu,"
               "\"parts_shared\":%llu",
            st->correlation_only_hits, st->bytes_in, st->bytes_out, secs,
            secs > 0 ? (double)st->bytes_out / 1e6 / secs : 0.0,
            secs > 0 ? (double)st->records / secs : 0.0, ru.ru_maxrss, st->threads, st->own_decided,
            st->own_reevaluated, st->framed_here, st->solo_files, st->solo_parts_shared);
    const aw_matcher_counts *mc = &st->matcher;
    double ev = mc->events ? (double)mc->events : 1.0;
    fprintf(f, ",\"rules_per_event\":{\"evaluations\":%llu,\"considered\":%.2f,\"evaluated\":%.2f}",
            (unsigned long long)mc->events, (double)mc->considered / ev, (double)mc->evaluated / ev);
    fprintf(f, ",\"prefilter_values\":{\"lookups\":%llu,\"remembered\":%llu}",
            (unsigned long long)mc->value_lookups, (unsigned long long)mc->value_hits);
    fprintf(f, ",\"cpu_seconds\":{\"process\":%.3f,\"calling_thread\":%.3f}", st->cpu_process,
            st->cpu_calling);
    fprintf(f, ",\"event_hashing\":\"%s\"", st->hashing ? st->hashing : "");
    fprintf(f, ",\"literal_scan\":\"%s\"", aw_plan_literal_scan(e->plan));
    if (st->correlating)
        write_corr_stats(f, st);
    fputs("}\n", f);
}

static void summary(const aw_scan_stats *st, const aw_engine *e, const aw_diags *rd, const aw_diags *id,
                    double secs)
{
    static const char *const lv[] = {"informational", "low", "medium", "high", "critical", "none"};
    fprintf(stderr, "scanned %llu files, %llu records (%llu malformed), %.1f MB in %.2f s (%.1f MB/s)\n",
            st->files, st->records, st->malformed, (double)st->bytes_out / 1e6, secs,
            secs > 0 ? (double)st->bytes_out / 1e6 / secs : 0.0);
    fprintf(stderr, "rules: %zu loaded, %zu rejected, %zu active\n", aw_ruleset_count(e->rs),
            aw_ruleset_rejected(e->rs), aw_plan_rule_count(e->plan));
    /* with correlations loaded, their alerts are counted on the next line */
    fprintf(stderr, "%s: %llu", st->correlating ? "detection alerts" : "alerts", st->alerts);
    for (int i = 5; i >= 0; i--)
        if (st->by_level[i])
            fprintf(stderr, "  %s %llu", lv[i], st->by_level[i]);
    fputc('\n', stderr);
    if (st->correlating) {
        const aw_correlator_stats *c = &st->corr;
        fprintf(stderr, "correlations: %llu alerts (%llu incl. intermediate), %llu events; late %llu, missing time %llu, "
                        "missing group-by field %llu, evicted groups %llu (%llu with open windows), approximated groups %llu\n",
                st->corr_alerts, (unsigned long long)c->alerts, (unsigned long long)c->events,
                (unsigned long long)c->late, (unsigned long long)c->no_time, (unsigned long long)c->no_group,
                (unsigned long long)c->evicted_groups, (unsigned long long)c->evicted_live,
                (unsigned long long)c->approximated_groups);
    }
    aw_diags_print_summary(id, stderr, "malformed records by reason");
    aw_diags_print_summary(rd, stderr, "rule problems by reason");
}

int aw_cmd_scan(int argc, char **argv)
{
    const char *rules[256], *maps[64], *inputs[4096];
    size_t nrules = 0, nmaps = 0, ninputs = 0;
    aw_engine_opts eo = {0};
    aw_scanner_opts so = {0};
    const char *fmt = "json", *outpath = NULL, *stats_json = NULL, *picture = NULL, *v;
    bool strict = false, quiet = false, no_progress = false;
    long long lateness = 0;         /* default */

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(scan_usage, stdout);
            return 0;
        } else if (aw_opt(argc, argv, &i, "--rules", &v) || aw_opt(argc, argv, &i, "-r", &v)) {
            if (nrules < 256)
                rules[nrules++] = v;
        } else if (aw_opt(argc, argv, &i, "--mapping", &v) || aw_opt(argc, argv, &i, "-m", &v)) {
            if (nmaps < 64)
                maps[nmaps++] = v;
        } else if (!strcmp(a, "--no-builtin-mappings")) {
            eo.no_builtin_mappings = true;
        } else if (aw_opt(argc, argv, &i, "--placeholders", &v)) {
            eo.placeholders = v;
        } else if (aw_opt(argc, argv, &i, "--pseudonym-key-file", &v)) {
            eo.key_file = v;
        } else if (aw_opt(argc, argv, &i, "--format", &v) || aw_opt(argc, argv, &i, "-f", &v)) {
            fmt = v;
        } else if (aw_opt(argc, argv, &i, "--output", &v) || aw_opt(argc, argv, &i, "-o", &v)) {
            outpath = v;
        } else if (aw_opt(argc, argv, &i, "--threads", &v) || aw_opt(argc, argv, &i, "-j", &v)) {
            char *end;
            long t = strtol(v, &end, 10);
            if (*end || t < 1 || t > 64) {
                fprintf(stderr, "aupwatch scan: --threads needs a number from 1 to 64\n");
                return 2;
            }
            so.threads = (int)t;
        } else if (!strcmp(a, "--explain")) {
            so.explain = true;
        } else if (aw_opt(argc, argv, &i, "--stats-json", &v)) {
            stats_json = v;
        } else if (aw_opt(argc, argv, &i, "--picture", &v)) {
            picture = v;
        } else if (aw_opt(argc, argv, &i, "--max-record", &v)) {
            char *end;
            so.max_record = strtoull(v, &end, 10);
            if (*end || so.max_record < 64) {
                fprintf(stderr, "aupwatch scan: --max-record needs a number of bytes >= 64\n");
                return 2;
            }
        } else if (aw_opt(argc, argv, &i, "--corr-max-groups", &v) ||
                   aw_opt(argc, argv, &i, "--corr-max-values", &v)) {
            bool groups = strstr(a, "groups") != NULL;
            char *end;
            unsigned long long n = strtoull(v, &end, 10);
            if (*end || n < 1 || n > (1ULL << 32)) {
                fprintf(stderr, "aupwatch scan: --corr-max-%s needs a positive number\n", groups ? "groups" : "values");
                return 2;
            }
            if (groups)
                so.corr.max_groups = (size_t)n;
            else
                so.corr.max_values = (size_t)n;
        } else if (aw_opt(argc, argv, &i, "--corr-lateness", &v)) {
            lateness = parse_secs(v);
            if (lateness == 0)
                lateness = AW_CORR_IN_ORDER;
            else if (lateness < 0) {
                fprintf(stderr, "aupwatch scan: --corr-lateness needs seconds (300) or 90s, 5m, 1h\n");
                return 2;
            }
        } else if (aw_opt(argc, argv, &i, "--corr-refire", &v)) {
            if (aw_refire_parse(v, &so.corr.refire) != 0) {
                fprintf(stderr, "aupwatch scan: --corr-refire is reset or keep\n");
                return 2;
            }
        } else if (!strcmp(a, "--strict")) {
            strict = true;
        } else if (!strcmp(a, "--no-progress")) {
            no_progress = true;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = true;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "aupwatch scan: unknown option '%s' (see aupwatch scan --help)\n", a);
            return 2;
        } else if (ninputs < 4096) {
            inputs[ninputs++] = a;
        }
    }
    aw_format f = !strcmp(fmt, "json") ? AW_FMT_JSON : !strcmp(fmt, "text") ? AW_FMT_TEXT
                : !strcmp(fmt, "sarif") ? AW_FMT_SARIF : (aw_format)-1;
    if ((int)f < 0) {
        fprintf(stderr, "aupwatch scan: unknown format '%s' (json, text, sarif)\n", fmt);
        return 2;
    }
    if (!nrules || !ninputs) {
        fprintf(stderr, "aupwatch scan: %s\n%s", !nrules ? "no --rules given" : "no INPUT given", scan_usage);
        return 2;
    }
    FILE *out = stdout;
    if (outpath && !(out = fopen(outpath, "w"))) {
        perror(outpath);
        return 2;
    }
    /* alerts are written by one thread; to a file or pipe in big writes */
    static char outbuf[1 << 20];
    if (!isatty(fileno(out)))
        setvbuf(out, outbuf, _IOFBF, sizeof outbuf);
    if (so.threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        so.threads = n < 1 ? 1 : n > 16 ? 16 : (int)n;
    }
    eo.rules = rules, eo.nrules = nrules, eo.mappings = maps, eo.nmappings = nmaps;
    eo.threads = so.threads;            /* they compile the prefilter first */
    aw_diags rd = {.quiet = quiet}, md = {0}, id = {.quiet = quiet};
    aw_engine e;
    aw_status rc = aw_engine_load(&e, &eo, &rd, &md);
    if (rc != AW_OK) {
        fprintf(stderr, "aupwatch scan: cannot load rules or mappings\n");
        aw_engine_free(&e);
        return 2;
    }
    so.input_diags = &id;
    aw_diags cd = {.quiet = quiet};
    so.corr.lateness_s = lateness;
    so.corr_fn = emit_corr;
    so.corr_diags = &cd;
    so.progress = !quiet && !no_progress && isatty(2);
    scanctx sc = {aw_out_new(out, f, f == AW_FMT_TEXT && out == stdout && isatty(1)), 0,
                  picture ? aw_picture_new() : NULL};
    aw_out_add_rules(sc.out, e.rs);
    so.render = sc.out;             /* workers format json/text alerts */
    aw_scanner *s = aw_scanner_new(&e, &so, emit, &sc);
    bool unreadable = false;
    for (size_t i = 0; i < ninputs; i++)
        if (aw_scanner_path(s, inputs[i]) != AW_OK)
            unreadable = true;
    aw_scanner_finish(s);
    aw_out_finish(sc.out);
    if (sc.pic) {
        aw_errbuf perr;
        if (aw_picture_write(sc.pic, picture, &perr) != AW_OK) {
            fprintf(stderr, "aupwatch scan: --picture: %s\n", perr.msg);
            unreadable = true;
        }
        aw_picture_free(sc.pic);
    }
    double secs = aw_scanner_seconds(s);
    const aw_scan_stats *st = aw_scanner_stats(s);
    aw_scan_stats copy = *st;
    copy.corr_alerts = sc.corr_alerts;
    aw_scanner_free(s);
    if (!quiet) {
        summary(&copy, &e, &rd, &id, secs);
        aw_diags_print_summary(&cd, stderr, "correlation warnings by reason");
    }
    if (stats_json) {
        FILE *sf = fopen(stats_json, "w");
        if (!sf) {
            perror(stats_json);
            unreadable = true;
        } else {
            write_stats(sf, &copy, &e, &rd, &id, secs);
            fclose(sf);
        }
    }
    int exit_code = unreadable ? 2 : strict && (aw_ruleset_rejected(e.rs) || copy.malformed || rd.total) ? 1 : 0;
    if (out != stdout)
        fclose(out);
    aw_engine_free(&e);
    aw_diags_free(&rd);
    aw_diags_free(&md);
    aw_diags_free(&id);
    aw_diags_free(&cd);
    return exit_code;
}
