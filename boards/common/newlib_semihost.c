/*
 * newlib_semihost.c - newlib's system calls over Arm semihosting, for the
 * MPS2 boards built with newlib (LIBC=newlib-nano, LIBC=newlib): what
 * newlib's stdio, fopen and exit need, and no more.
 *
 * Why not newlib's librdimon (rdimon.specs), which does the same: its
 * syscalls are one object file with a single .text section, so _sbrk (the
 * heap of newlib's own allocator) comes into every image that writes a
 * byte, and its crt0 takes the stack from SYS_HEAPINFO, which QEMU points
 * at the top of PSRAM, sheap's heap region.  Here the images link
 * nosys.specs (libnosys: failing stubs for the rest, each its own object)
 * and newlib's plain crt0, which sets sp to the linker script's __stack;
 * nothing references _sbrk, so it is not linked.
 *
 * File descriptors: 0, 1, 2 are the semihosting console (":tt", opened on
 * first use); 3.. index a small table of semihosting handles, each with the
 * file position kept here (semihosting seeks only to absolute positions).
 * Not thread-safe: single-threaded test images.
 */
#if !defined(__PICOLIBC__)
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYS_OPEN 0x01
#define SYS_CLOSE 0x02
#define SYS_WRITE 0x05
#define SYS_READ 0x06
#define SYS_SEEK 0x0a
#define SYS_FLEN 0x0c
#define SYS_EXIT_EXTENDED 0x20

static long semihost(long op, void *arg)
{
    register long r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

#define MAX_FILES 8
static struct {
    long handle; /* semihosting handle; 0: slot free (console: not opened yet) */
    long pos;
} files[MAX_FILES];

static long sh_open(const char *name, long mode)
{
    long args[3] = {(long)(uintptr_t)name, mode, (long)strlen(name)};
    return semihost(SYS_OPEN, args);
}

/* The handle for fd, opening the console on first use; -1 when none. */
static long handle_of(int fd)
{
    if (fd < 0 || fd >= MAX_FILES)
        return -1;
    if (fd < 3 && files[fd].handle == 0) {
        /* ":tt" modes: 0 "r" for stdin, 4 "w" for stdout, 8 "a" for stderr. */
        long h = sh_open(":tt", fd == 0 ? 0 : fd == 1 ? 4 : 8);
        files[fd].handle = h < 0 ? -1 : h + 1;
    }
    return files[fd].handle > 0 ? files[fd].handle - 1 : -1;
}

/* newlib's libc calls these; its headers declare few of them. */
int _open(const char *path, int flags, ...);
int _close(int fd);
int _write(int fd, const void *buf, size_t n);
int _read(int fd, void *buf, size_t n);
off_t _lseek(int fd, off_t off, int whence);
int _fstat(int fd, struct stat *st);
int _isatty(int fd);
int _kill(int pid, int sig);
int _getpid(void);

int _open(const char *path, int flags, ...)
{
    /* Semihosting's fopen-style modes: r=0, r+=2, w=4, w+=6, a=8, a+=10
     * (+1 for binary, which changes nothing here). */
    long mode;
    int acc = flags & O_ACCMODE;
    if (flags & O_APPEND)
        mode = acc == O_RDWR ? 10 : 8;
    else if (flags & O_TRUNC || (flags & O_CREAT && acc != O_RDONLY))
        mode = acc == O_RDWR ? 6 : 4;
    else
        mode = acc == O_RDWR ? 2 : 0;
    for (int fd = 3; fd < MAX_FILES; fd++) {
        if (files[fd].handle != 0)
            continue;
        long h = sh_open(path, mode + 1);
        if (h < 0) {
            errno = ENOENT;
            return -1;
        }
        files[fd].handle = h + 1;
        files[fd].pos = 0;
        return fd;
    }
    errno = EMFILE;
    return -1;
}

int _close(int fd)
{
    long h = handle_of(fd);
    if (h < 0) {
        errno = EBADF;
        return -1;
    }
    if (fd < 3)
        return 0; /* the console stays open */
    files[fd].handle = 0;
    long args[1] = {h};
    return semihost(SYS_CLOSE, args) == 0 ? 0 : -1;
}

/* SYS_WRITE or SYS_READ: both return the bytes not transferred. */
static int transfer(long op, int fd, const void *buf, size_t n)
{
    long h = handle_of(fd);
    if (h < 0) {
        errno = EBADF;
        return -1;
    }
    long args[3] = {h, (long)(uintptr_t)buf, (long)n};
    long done = (long)n - semihost(op, args);
    files[fd].pos += done;
    return (int)done;
}

int _write(int fd, const void *buf, size_t n) { return transfer(SYS_WRITE, fd, buf, n); }

int _read(int fd, void *buf, size_t n) { return transfer(SYS_READ, fd, buf, n); }

off_t _lseek(int fd, off_t off, int whence)
{
    long h = handle_of(fd);
    if (h < 0 || fd < 3) {
        errno = fd < 3 ? ESPIPE : EBADF;
        return -1;
    }
    long to = off;
    if (whence == SEEK_CUR)
        to += files[fd].pos;
    else if (whence == SEEK_END) {
        long args[1] = {h};
        to += semihost(SYS_FLEN, args);
    }
    long args[2] = {h, to};
    if (to < 0 || semihost(SYS_SEEK, args) != 0) {
        errno = EINVAL;
        return -1;
    }
    files[fd].pos = to;
    return to;
}

int _fstat(int fd, struct stat *st)
{
    if (handle_of(fd) < 0) {
        errno = EBADF;
        return -1;
    }
    /* A loop, not memset: board objects make no library calls of that kind
     * (make test checks them with nm; see tools/check_no_libcalls.sh). */
    for (size_t i = 0; i < sizeof *st; i++)
        ((unsigned char *)st)[i] = 0;
    st->st_mode = fd < 3 ? S_IFCHR : S_IFREG; /* the console is line-buffered */
    return 0;
}

int _isatty(int fd) { return fd >= 0 && fd < 3; }

_Noreturn void _exit(int status)
{
    long args[2] = {0x20026 /* ADP_Stopped_ApplicationExit */, status};
    semihost(SYS_EXIT_EXTENDED, args);
    for (;;)
        ;
}

/* abort() raises SIGABRT: stop with 128 + the signal, as a shell would. */
int _kill(int pid, int sig)
{
    (void)pid;
    _exit(128 + sig);
}

int _getpid(void) { return 1; }
#endif
