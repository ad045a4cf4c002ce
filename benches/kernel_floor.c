/* The kernel floor of a sandbox spawn: the system calls a full isobox sandbox needs, made
 * directly from C with nothing else around them, timed against posix_spawn of the same
 * program. It answers "how much of a spawn is isobox, and how much is the kernel doing what
 * the sandbox asks for?". Run by benches/kernel_floor.py (which builds it and the tiny
 * program and prepares the root); see BENCHMARKS.md.
 *
 *   kernel_floor ROOT N
 *
 * ROOT holds /tiny and the empty directories /proc and /dev. For each variant, N spawns back
 * to back (as criterion runs them), then N rounds taking turns; prints p50 in microseconds.
 * Needs root or unprivileged user namespaces (the id maps map the caller to root).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { STACK = 256 << 10 };

static const char *root;
static char *tiny_host;
static int null_fd;

struct child_arg {
    int go;   /* read end: the parent's go byte after the id maps */
    int done; /* write end, close-on-exec: EOF tells the parent exec happened */
    int net;
    int dev;
};

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* Also called in the CLONE_VM child: stdio there is safe only because this program has one
 * thread, so no stdio lock can be held at the clone. */
static void die(const char *what)
{
    perror(what);
    _exit(127);
}

static void at(const char *rel, char *buf)
{
    snprintf(buf, 256, "%s/%s", root, rel);
}

static void bind_node(const char *name)
{
    char host[64], target[256], rel[64];
    snprintf(host, sizeof host, "/dev/%s", name);
    snprintf(rel, sizeof rel, "dev/%s", name);
    at(rel, target);
    if (mknod(target, S_IFREG | 0644, 0) || mount(host, target, NULL, MS_BIND, NULL))
        die(target);
}

static void link_in_dev(const char *to, const char *name)
{
    char rel[64], path[256];
    snprintf(rel, sizeof rel, "dev/%s", name);
    at(rel, path);
    if (symlink(to, path))
        die(path);
}

/* The minimal /dev isobox makes: a tmpfs, six bound device nodes, devpts, links, shm. */
static void make_dev(void)
{
    static const char *nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
    char path[256];
    at("dev", path);
    if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"))
        die("tmpfs");
    for (unsigned i = 0; i < sizeof nodes / sizeof *nodes; i++)
        bind_node(nodes[i]);
    at("dev/pts", path);
    if (mkdir(path, 0755) ||
        mount("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"))
        die("devpts");
    link_in_dev("pts/ptmx", "ptmx");
    link_in_dev("/proc/self/fd", "fd");
    link_in_dev("/proc/self/fd/0", "stdin");
    link_in_dev("/proc/self/fd/1", "stdout");
    link_in_dev("/proc/self/fd/2", "stderr");
    at("dev/shm", path);
    if (mkdir(path, 0755) || chmod(path, 01777))
        die("shm");
}

static void loopback_up(void)
{
    struct ifreq ifr = {0};
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    strcpy(ifr.ifr_name, "lo");
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        die("lo");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        die("lo up");
    close(s);
}

static int child(void *raw)
{
    struct child_arg *a = raw;
    char go, path[256];
    if (read(a->go, &go, 1) != 1)
        _exit(126);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
        mount(root, root, NULL, MS_BIND | MS_REC, NULL))
        die("root");
    if (a->dev) {
        at("proc", path);
        if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
            die("proc");
        make_dev();
    }
    if (chdir(root) || syscall(SYS_pivot_root, ".", ".") || umount2(".", MNT_DETACH) || chdir("/"))
        die("pivot_root");
    if (a->dev && sethostname("bench", 5))
        die("sethostname");
    if (a->net)
        loopback_up();
    if (dup2(null_fd, 1) < 0)
        die("dup2");
    /* As posix_spawn and isobox do: no handler of the parent may run in this child. */
    for (int sig = 1; sig < 65; sig++)
        if (sig != SIGKILL && sig != SIGSTOP && (sig < 32 || sig > 33))
            signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    char *argv[] = {"/tiny", NULL};
    execve("/tiny", argv, environ);
    die("execve");
    return 0;
}

static void write_file(pid_t pid, const char *name, const char *text)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        die(path);
    close(fd);
}

static void spawn_sandbox(int net, int dev)
{
    static char *stack;
    if (!stack && (stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
        die("mmap");
    int go[2], done[2];
    if (pipe2(go, O_CLOEXEC) || pipe2(done, O_CLOEXEC))
        die("pipe");
    struct child_arg a = {go[0], done[1], net, dev};
    int flags = CLONE_VM | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
    if (net)
        flags |= CLONE_NEWNET;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = clone(child, stack + STACK, flags | SIGCHLD, &a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0)
        die("clone");
    char map[64];
    snprintf(map, sizeof map, "0 %d 1\n", getuid());
    write_file(pid, "uid_map", map);
    if (getuid() != 0)
        write_file(pid, "setgroups", "deny");
    snprintf(map, sizeof map, "0 %d 1\n", getgid());
    write_file(pid, "gid_map", map);
    close(done[1]);
    if (write(go[1], "x", 1) != 1)
        die("go");
    char byte;
    if (read(done[0], &byte, 1) != 0)
        die("child failed");
    close(go[0]);
    close(go[1]);
    close(done[0]);
    int status;
    if (waitpid(pid, &status, 0) != pid || status != 0)
        die("child status");
}

static void spawn_plain(void)
{
    char *argv[] = {tiny_host, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, null_fd, 1);
    pid_t pid;
    int status;
    if (posix_spawn(&pid, tiny_host, &fa, NULL, argv, environ) || waitpid(pid, &status, 0) != pid || status)
        die("posix_spawn");
    posix_spawn_file_actions_destroy(&fa);
}

static void v_spawn(void) { spawn_plain(); }
static void v_five(void) { spawn_sandbox(0, 0); }
static void v_full(void) { spawn_sandbox(0, 1); }
static void v_net(void) { spawn_sandbox(1, 1); }

static const struct {
    const char *name;
    void (*run)(void);
} variants[] = {
    {"posix_spawn (the baseline)", v_spawn},
    {"user+pid+mount+uts+ipc, pivot_root", v_five},
    {"+proc+dev +hostname (full, no net)", v_full},
    {"+net (loopback up)", v_net},
};
enum { NV = sizeof variants / sizeof *variants };

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n)
{
    qsort(t, n, sizeof *t, by_value);
    return t[n / 2];
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return fprintf(stderr, "usage: kernel_floor ROOT N\n"), 2;
    root = argv[1];
    int n = atoi(argv[2]);
    if (asprintf(&tiny_host, "%s/tiny", root) < 0 || (null_fd = open("/dev/null", O_WRONLY)) < 0)
        die("setup");
    double *t = calloc((size_t)n * NV, sizeof *t), back[NV];
    for (int v = 0; v < NV; v++) {
        for (int i = 0; i < n / 10; i++)
            variants[v].run();
        for (int i = 0; i < n; i++) {
            double start = now_us();
            variants[v].run();
            t[v * n + i] = now_us() - start;
        }
        back[v] = median(t + v * n, n);
    }
    unsigned seed = 1;
    for (int i = 0; i < n; i++) {
        int order[NV];
        for (int v = 0; v < NV; v++)
            order[v] = v;
        for (int v = NV - 1; v > 0; v--) {
            int j = rand_r(&seed) % (v + 1), k = order[v];
            order[v] = order[j];
            order[j] = k;
        }
        for (int k = 0; k < NV; k++) {
            double start = now_us();
            variants[order[k]].run();
            t[order[k] * n + i] = now_us() - start;
        }
    }
    printf("| variant (C, no library) | back to back p50 µs | ratio | taking turns p50 µs | ratio |\n");
    printf("| --- | ---: | ---: | ---: | ---: |\n");
    double base_turns = median(t, n);
    for (int v = 0; v < NV; v++) {
        double turns = v == 0 ? base_turns : median(t + v * n, n);
        printf("| %s | %.0f | %.2f | %.0f | %.2f |\n", variants[v].name, back[v], back[v] / back[0], turns,
               turns / base_turns);
    }
    return 0;
}
