/* util.c - base64, decimal parsing and durable file writes for tlog. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "tlog/tlog_int.h"

int aw_tlog_b64dec(const char *s, size_t len, uint8_t *out, size_t cap,
                   size_t *out_len)
{
    char small[256], *chk = small;
    size_t n = 0;
    int rc = -1;
    if (len == 0 || len % 4 != 0)
        return -1;
    if (sodium_base642bin(out, cap, s, len, NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    if (len + 1 > sizeof small && !(chk = malloc(len + 1)))
        return -1;
    if (aw_tlog_b64enc(out, n, chk, len + 1) == len &&
        memcmp(chk, s, len) == 0) {
        *out_len = n;
        rc = 0;
    }
    if (chk != small)
        free(chk);
    return rc;
}

size_t aw_tlog_b64enc(const uint8_t *in, size_t len, char *out, size_t cap)
{
    size_t need = sodium_base64_ENCODED_LEN(len,
                                            sodium_base64_VARIANT_ORIGINAL);
    if (need > cap)
        return 0;
    sodium_bin2base64(out, cap, in, len, sodium_base64_VARIANT_ORIGINAL);
    return need - 1;
}

int aw_tlog_parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

aw_status aw_tlog_read_file(const char *path, size_t cap, char **buf,
                            size_t *len, aw_errbuf *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0) {
        aw_errbuf_set(err, "%s: %s", path, strerror(errno));
        return AW_EIO;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        aw_errbuf_set(err, "%s: not a regular file", path);
        close(fd);
        return AW_EIO;
    }
    if ((uint64_t)sb.st_size > cap) {
        aw_errbuf_set(err, "%s: %lld bytes exceeds the limit of %zu", path,
                      (long long)sb.st_size, cap);
        close(fd);
        return AW_ELIMIT;
    }
    char *b = malloc((size_t)sb.st_size + 1);
    if (!b) {
        close(fd);
        aw_errbuf_set(err, "%s: out of memory", path);
        return AW_ENOMEM;
    }
    size_t got = 0;
    while (got < (size_t)sb.st_size) {
        ssize_t r = read(fd, b + got, (size_t)sb.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != (size_t)sb.st_size) {
        free(b);
        aw_errbuf_set(err, "%s: short read", path);
        return AW_EIO;
    }
    b[got] = 0;
    *buf = b;
    *len = got;
    return AW_OK;
}

aw_status aw_tlog_fsync_dir(const char *dir, aw_errbuf *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        aw_errbuf_set(err, "%s: fsync: %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return AW_EIO;
    }
    close(fd);
    return AW_OK;
}

aw_status aw_tlog_mkdirs_for(const char *path, aw_errbuf *err)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n >= sizeof tmp) {
        aw_errbuf_set(err, "%s: path too long", path);
        return AW_ELIMIT;
    }
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i < n; i++) {
        if (tmp[i] != '/')
            continue;
        tmp[i] = 0;
        if (mkdir(tmp, 0755) == 0) {
            /* make the new directory entry durable in its parent */
            char *sl = strrchr(tmp, '/');
            if (sl) {
                *sl = 0;
                aw_status st = aw_tlog_fsync_dir(sl == tmp ? "/" : tmp, err);
                *sl = '/';
                if (st != AW_OK)
                    return st;
            } else if (aw_tlog_fsync_dir(".", err) != AW_OK) {
                return AW_EIO;
            }
        } else if (errno != EEXIST) {
            aw_errbuf_set(err, "%s: mkdir: %s", tmp, strerror(errno));
            return AW_EIO;
        }
        tmp[i] = '/';
    }
    return AW_OK;
}

aw_status aw_tlog_write_atomic(const char *path, const void *buf, size_t len,
                               int do_fsync, int dir_sync, aw_errbuf *err)
{
    char tmp[4200], dir[4096];
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) : 1;
    if (dl >= sizeof dir) {
        aw_errbuf_set(err, "%s: path too long", path);
        return AW_ELIMIT;
    }
    if (slash) {
        memcpy(dir, path, dl);
        dir[dl] = 0;
        snprintf(tmp, sizeof tmp, "%s/.tmp.%s", dir, slash + 1);
    } else {
        strcpy(dir, ".");
        snprintf(tmp, sizeof tmp, ".tmp.%s", path);
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT) {
        if (aw_tlog_mkdirs_for(path, err) != AW_OK)
            return AW_EIO;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    }
    if (fd < 0) {
        aw_errbuf_set(err, "%s: %s", tmp, strerror(errno));
        return AW_EIO;
    }
    const char *p = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            aw_errbuf_set(err, "%s: write: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return AW_EIO;
        }
        p += w;
        left -= (size_t)w;
    }
    if (do_fsync && fdatasync(fd) != 0) {
        aw_errbuf_set(err, "%s: fsync: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return AW_EIO;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        aw_errbuf_set(err, "%s: rename: %s", path, strerror(errno));
        unlink(tmp);
        return AW_EIO;
    }
    if (do_fsync && dir_sync)
        return aw_tlog_fsync_dir(dir, err);
    return AW_OK;
}
