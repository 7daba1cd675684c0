/* failread.c - an LD_PRELOAD shim for ranges.test.sh: pread fails with
 * EIO when it would read a byte at or past AW_FAIL_AT of a file whose
 * path ends in AW_FAIL_NAME, and it asks for more than AW_FAIL_MIN
 * bytes (so the workers' range reads fail, and the calling thread's
 * look for a cut, a few kilobytes, does not). Other reads pass. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);

static int fails(int fd, size_t n, off_t off)
{
    const char *name = getenv("AW_FAIL_NAME"), *at = getenv("AW_FAIL_AT"), *min = getenv("AW_FAIL_MIN");
    char link[64], path[4096];
    if (!name || !at)
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t k = readlink(link, path, sizeof path - 1);
    if (k < 0)
        return 0;
    path[k] = '\0';
    size_t ln = strlen(name), lp = (size_t)k;
    if (lp < ln || strcmp(path + lp - ln, name) != 0)
        return 0;
    return (unsigned long long)off + n > strtoull(at, NULL, 10) && n > (min ? strtoull(min, NULL, 10) : 0);
}

static ssize_t call(const char *sym, int fd, void *buf, size_t n, off_t off)
{
    pread_fn real = (pread_fn)dlsym(RTLD_NEXT, sym);
    if (fails(fd, n, off)) {
        errno = EIO;
        return -1;
    }
    return real(fd, buf, n, off);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off) { return call("pread", fd, buf, n, off); }
ssize_t pread64(int fd, void *buf, size_t n, off_t off) { return call("pread64", fd, buf, n, off); }
