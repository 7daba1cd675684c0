/* aw_input.h - reading records from log files.
 *
 * A reader opens a file (or "-" for stdin), detects gzip and zstd by
 * magic number and decompresses on the fly, then frames records in any
 * of these layouts, detected from the first non-blank byte:
 *   - JSON Lines, and concatenated (pretty-printed) JSON objects;
 *   - a JSON array of objects: each element is a record;
 *   - CloudTrail's {"Records":[...]} envelope: each element is a record.
 * A record is handed out as the exact bytes read, so the caller can hash
 * them. A malformed record (unbalanced structure, truncated file, a
 * record over the size limit) is reported with its line and the reader
 * resynchronises at the next line that starts a record; nothing after
 * it is lost. Framing only checks structure; aw_doc_parse validates. */
#ifndef AW_INPUT_H
#define AW_INPUT_H

#include "aupwatch/aw_common.h"

#define AW_INPUT_DEFAULT_MAX_RECORD (16u << 20) /* 16 MiB */

typedef struct aw_reader aw_reader;

typedef struct aw_reader_opts {
    size_t max_record;          /* 0 = AW_INPUT_DEFAULT_MAX_RECORD */
    int decode_thread;          /* decompress on a thread of its own */
    /* With decode_thread: a gzip file read whole (a regular file up to
     * 16 MiB) whose last member decodes to at most solo_max bytes gets
     * no decoder thread, and is read whole at its first read rather than
     * at open; a plain regular file of at most solo_max bytes qualifies
     * too (aw_reader_solo). A caller with many such files (CloudTrail's
     * S3 layout) hands each to one of its threads, which decodes and
     * frames it there, files in parallel. 0: none. */
    uint64_t solo_max;
} aw_reader_opts;

typedef enum aw_compression { AW_COMP_NONE, AW_COMP_GZIP, AW_COMP_ZSTD } aw_compression;

typedef struct aw_record {
    const char *data;           /* record bytes; valid until next call */
    size_t len;
    uint64_t recno;             /* 1-based record number in the file */
    uint64_t line;              /* 1-based line where the record starts */
    int taken;                  /* the line function took it (below) */
} aw_record;

/* Open `path` ("-" = stdin). On failure returns AW_EIO with err set. */
aw_status aw_reader_open(aw_reader **out, const char *path,
                         const aw_reader_opts *opts, aw_errbuf *err);

/* Next record. Returns AW_OK (rec filled), AW_EOF, AW_EPARSE or
 * AW_ELIMIT (a malformed/oversized record was skipped: rec->line and
 * rec->recno say where, err says why; call again to continue), or
 * AW_EIO (read or decompression failure: stop). */
aw_status aw_reader_next(aw_reader *r, aw_record *rec, aw_errbuf *err);

/* One record per line, the common layout, framed by the caller's
 * parser instead of byte by byte: where a line starts a top-level
 * object, fn is offered the rest of the line (up to its newline). It
 * returns the length of the one JSON value there, followed by nothing
 * but whitespace, or 0 if the line is anything else; the record is then
 * framed as usual. The value is the record the framer would cut: a
 * valid value's brackets and strings are its structure, and a line
 * holds no newline, where the framer's other boundaries lie. A record
 * so taken comes back with rec->taken set: the caller parsed it. */
typedef size_t (*aw_line_fn)(void *ud, const char *line, size_t len);
void aw_reader_set_line_fn(aw_reader *r, aw_line_fn fn, void *ud);

/* A record's bytes stay where aw_reader_next put them until the reader
 * next moves or overwrites its buffer, which may be many records later:
 * fn is called just before it does (before each refill), so a caller
 * that keeps pointers to earlier records (work queued on their bytes)
 * can finish with them there instead of copying them. */
typedef void (*aw_move_fn)(void *ud);
void aw_reader_set_move_fn(aw_reader *r, aw_move_fn fn, void *ud);

/* A buffer shared by the records and chunks framed in it: a gzip
 * member decoded whole (aw_reader_hold, aw_reader_chunk_swap). Each
 * holder releases it once; the last release returns it for the next
 * member. */
typedef struct aw_hold aw_hold;
void aw_hold_retain(aw_hold *h);        /* one more holder */
void aw_hold_release(aw_hold *h);       /* NULL: no-op */

/* The shared buffer under the records aw_reader_next returns, while the
 * reader frames a gzip member where it was decoded (see
 * aw_reader_chunk_swap); NULL otherwise. A caller that retains it
 * (aw_hold_retain) may keep pointers to those records past the next
 * refill, instead of copying them. */
aw_hold *aw_reader_hold(const aw_reader *r);

/* Framing on other threads. A line that starts with '{' is where the
 * framer stands between records whatever came before it (a record still
 * open there is reported as cut short), unless an array or a Records
 * envelope is open. So where the reader stands at a top-level '{'
 * outside any array, aw_reader_chunk hands out whole lines from there,
 * up to about `want` bytes, ending where a line that starts with '{'
 * follows (or at the end of input), and moves past them; any thread
 * frames a chunk alone with a chunk reader, which starts between records
 * at top level. Its end state says whether the next chunk's start was
 * right: where it is not (an array opened inside the chunk), frame the
 * next chunk again from that state. Records are numbered in each chunk
 * from 1 (the caller adds the records before it); lines are the file's.
 * Every record, report and message comes out as aw_reader_next would
 * give it. */
typedef struct aw_chunk {
    const char *data;           /* valid until the next call on the reader;
                                   data[len] is '{' unless eof */
    size_t len;
    int eof;                    /* the chunk ends the input */
    uint64_t line;              /* the line data[0] is on */
    aw_hold *hold;              /* aw_reader_chunk_swap: data lies in this
                                   shared buffer (NULL: in *buf) */
} aw_chunk;

/* The framer's state between records (values private to the reader). */
typedef struct aw_fstate {
    int st, in_array, resynced, bol;
    uint64_t arr_line;
} aw_fstate;

/* AW_OK with c->len > 0: a chunk; AW_OK with c->len == 0: none here,
 * frame the next record with aw_reader_next; AW_EOF: end of input;
 * AW_EIO: reading failed in an earlier call (err set). A read that
 * fails here cuts no chunk: aw_reader_next frames the records before
 * the failure, then reports it, as without chunks. */
aw_status aw_reader_chunk(aw_reader *r, size_t want, aw_chunk *c, aw_errbuf *err);

/* The same, the chunk handed over with the buffer that holds it: no
 * copy of the input. Reads stop about `want` bytes ahead, so a chunk's
 * buffer holds little more than the chunk. On a chunk, *buf (capacity
 * *cap, may be NULL/0; grown as needed) becomes the reader's buffer,
 * and the reader's old one, with the chunk at its start (c->data ==
 * *buf) and the next chunk's '{' after it, is returned in *buf and *cap:
 * the caller owns it (free()) and may hand it back in a later call.
 * A gzip member decoded whole is not copied into the reader's buffer:
 * chunks are cut from it in place, each with c->hold set (and *buf,
 * *cap untouched); the caller owns that reference, and the chunk's
 * bytes stay until it releases it (aw_hold_release).
 * AW_EIO also if out of memory. */
aw_status aw_reader_chunk_swap(aw_reader *r, size_t want, aw_chunk *c, char **buf, size_t *cap,
                               aw_errbuf *err);

/* A reader framing one chunk, from state `from` (NULL: between records
 * at top level), with the size limit max_record (0: the default). Its
 * aw_reader_next returns AW_EOF at the chunk's end. NULL if out of
 * memory. c->data must stay valid while it is used. */
aw_reader *aw_reader_open_chunk(const aw_chunk *c, const aw_fstate *from, size_t max_record);
/* A chunk reader after AW_EOF: its end state; 1 if that is between
 * records at top level (the next chunk's assumed start). */
int aw_reader_chunk_end(const aw_reader *r, aw_fstate *end);
/* Record numbers used so far (records and reported malformed ones). */
uint64_t aw_reader_recno(const aw_reader *r);
/* The line the reader is on: 1 + the newlines it has framed past (a
 * chunk's reader starts on the chunk's line). */
uint64_t aw_reader_line(const aw_reader *r);
/* Continue a stream reader after its chunks, from their end state, with
 * recno record numbers used. */
void aw_reader_resume(aw_reader *r, const aw_fstate *s, uint64_t recno);
/* Chunks cut from now on leave the reader's line where it is: their
 * framers count their newlines anyway, and the caller that adds them up
 * (in order) says where the stream reader goes on with aw_reader_set_line
 * (and aw_reader_range's line is stale meanwhile). Counting them here
 * was a pass over every byte on the thread that cuts. */
void aw_reader_defer_lines(aw_reader *r);
void aw_reader_set_line(aw_reader *r, uint64_t line);

/* Chunks read by the threads that frame them. Where the reader of a
 * regular, uncompressed file stands at a chunk's start (as
 * aw_reader_chunk would cut one, with at least two chunks of `want`
 * bytes left), aw_reader_range describes the file from there: the
 * calling thread then finds each cut with aw_range_cut, reading a few
 * kilobytes around it, and any thread reads the chunk itself with
 * aw_range_read and frames it with a chunk reader. The chunk's first
 * line is then the one after the newlines before it (aw_input_newlines
 * counts a chunk's). The file is read up to the size it had here. */
typedef struct aw_range {
    int fd;                     /* the caller's (a dup): aw_range_close */
    const char *path;           /* the reader's: valid while it is open */
    uint64_t pos;               /* the reader's offset in the file */
    uint64_t size;              /* the file's size when described */
    uint64_t line;              /* the line at pos */
} aw_range;

/* 1 with rg filled (the reader itself is not moved), 0 if the reader
 * does not stand where ranges can start. */
int aw_reader_range(aw_reader *r, size_t want, aw_range *rg);
void aw_range_close(aw_range *rg);
/* The first cut at or after `from`: the start of a line that starts
 * with '{' (*cut), or rg->size if there is none before the end (so the
 * range from `at` of about `want` bytes ends at the cut from at + want,
 * the last one included); with
 * *envelope set if that line opens a Records envelope (where chunks
 * stop: the stream reader frames it). AW_ELIMIT if none is within
 * `limit` bytes of from; AW_EIO if reading fails (err set). */
aw_status aw_range_cut(const aw_range *rg, uint64_t from, size_t limit, uint64_t *cut, int *envelope,
                       aw_errbuf *err);
/* Exactly n bytes at offset off into dst; AW_EIO (err set) if reading
 * fails or the file ends first. */
aw_status aw_range_read(const aw_range *rg, uint64_t off, char *dst, size_t n, aw_errbuf *err);
/* Newlines in p[0..n). */
uint64_t aw_input_newlines(const char *p, size_t n);
/* Continue the stream reader from offset off of its regular file (a
 * cut), on line `line`, between records at top level (then
 * aw_reader_resume sets the state chunks ended in). */
aw_status aw_reader_seek(aw_reader *r, uint64_t off, uint64_t line, aw_errbuf *err);

/* 1 if the file qualified for opts->solo_max: it is decoded by the
 * thread that reads it (a gzip file), or is plain. A reader is used by
 * one thread at a time, but may be handed from one to another (the
 * caller synchronising). */
int aw_reader_solo(const aw_reader *r);

const char *aw_reader_path(const aw_reader *r);
aw_compression aw_reader_compression(const aw_reader *r);
uint64_t aw_reader_bytes_in(const aw_reader *r);  /* raw bytes consumed */
uint64_t aw_reader_bytes_out(const aw_reader *r); /* decompressed bytes */
void aw_reader_close(aw_reader *r);               /* NULL is a no-op */

/* Expand inputs: a file is itself, a directory is every regular file
 * below it (recursively, sorted by path, hidden entries skipped), "-"
 * is stdin. Calls fn for each; stops and returns fn's nonzero value.
 * Returns AW_EIO with err set if a path cannot be read. */
typedef int (*aw_walk_fn)(const char *path, void *ud);
aw_status aw_input_walk(const char *path, aw_walk_fn fn, void *ud,
                        aw_errbuf *err);

#endif
