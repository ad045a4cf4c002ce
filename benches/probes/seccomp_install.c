/* What installing a seccomp filter costs on this kernel, by the instructions the kernel walks.
 *
 *   cc -O2 -o /tmp/seccomp_install benches/probes/seccomp_install.c && /tmp/seccomp_install
 *
 * Each row forks 100 children; each sets no_new_privs and times one seccomp(SET_MODE_FILTER)
 * of a program of N instructions: N-1 loads of the system-call number, then RET ALLOW. The
 * kernel walks the whole program for every system-call number to build its allow cache
 * (seccomp_cache_prepare, Linux 5.11+), so the cost grows with the instructions executed per
 * number, not with the program's size alone. Linked from BENCHMARKS.md. */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double install_us(int n) {
    struct sock_filter ins[512];
    for (int i = 0; i < n - 1; i++) ins[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0);
    ins[n - 1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {(unsigned short)n, ins};
    double total = 0;
    const int rounds = 100;
    for (int r = 0; r < rounds; r++) {
        int fds[2];
        if (pipe(fds)) return -1;
        pid_t pid = fork();
        if (pid == 0) {
            prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            double t = now_us();
            long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
            double d = rc == 0 ? now_us() - t : -1;
            if (write(fds[1], &d, sizeof d) != sizeof d) _exit(1);
            _exit(0);
        }
        double d = -1;
        if (read(fds[0], &d, sizeof d) != sizeof d || d < 0) return -1;
        total += d;
        waitpid(pid, NULL, 0);
        close(fds[0]);
        close(fds[1]);
    }
    return total / rounds;
}

int main(void) {
    int sizes[] = {2, 10, 20, 50, 92, 300};
    printf("| instructions walked per number | install, mean us |\n| ---: | ---: |\n");
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) printf("| %d | %.1f |\n", sizes[i], install_us(sizes[i]));
    return 0;
}
