package ansible_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The Debian release and packages of the test's root filesystems. Beyond
// minbase: python3 and its apt bindings for ansible's modules, systemd for
// `systemctl enable` (offline, as symlinks), and every package the roles
// install, so that runs from the cached tarball need no network.
const (
	debianSuite   = "bookworm"
	debianMirror  = "http://deb.debian.org/debian"
	rootfsVariant = "minbase"
)

var rootfsPackages = []string{
	"python3", "python3-apt", "systemd", "nftables", "fail2ban", "python3-systemd", "alsa-utils",
}

// repoRoot is the module's root directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot find the test's source file")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// requireProvisioningTools skips the test, in one line, unless it can make
// and enter chroots and run ansible.
func requireProvisioningTools(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: the ansible test needs root (debootstrap and chroot); CI runs it as root")
	}
	for _, tool := range []string{"debootstrap", "ansible-playbook", "ansible-vault", "chroot", "tar", "gzip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping: the ansible test needs %s (apt-get install debootstrap ansible)", tool)
		}
	}
}

// cacheDir holds the debootstrap tarball between runs:
// $KURODENWA_TEST_CACHE, else $XDG_CACHE_HOME/kurodenwa-test, else
// /var/cache/kurodenwa-test.
func cacheDir() string {
	if d := os.Getenv("KURODENWA_TEST_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "kurodenwa-test")
	}
	return "/var/cache/kurodenwa-test"
}

// rootfsTarball returns a gzipped tarball of a debootstrapped Debian root
// filesystem, made once and then taken from the cache. Concurrent tests wait
// for each other on a lock file.
func rootfsTarball(ctx context.Context, t *testing.T) string {
	t.Helper()
	mirror := os.Getenv("KURODENWA_TEST_DEBIAN_MIRROR")
	if mirror == "" {
		mirror = debianMirror
	}
	arch := runtime.GOARCH
	key := sha256.Sum256([]byte(strings.Join([]string{debianSuite, rootfsVariant, arch, strings.Join(rootfsPackages, ",")}, "|")))
	dir := cacheDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("cache directory: %v", err)
	}
	// zstd packs 300 MB in seconds where gzip takes half a minute.
	compress, ext := "--gzip", "tar.gz"
	if _, err := exec.LookPath("zstd"); err == nil {
		compress, ext = "--zstd", "tar.zst"
	}
	tarball := filepath.Join(dir, fmt.Sprintf("rootfs-%s-%s-%s-%s.%s", debianSuite, rootfsVariant, arch, hex.EncodeToString(key[:6]), ext))

	lock, err := os.OpenFile(filepath.Join(dir, "rootfs.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("lock: %v", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	if _, err := os.Stat(tarball); err == nil {
		t.Logf("root filesystem from the cache: %s", tarball)
		return tarball
	}
	build, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cleanupTree(build)
		os.RemoveAll(build)
	}()
	target := filepath.Join(build, "rootfs")
	logPath := filepath.Join(build, "debootstrap.log")
	start := time.Now()
	out, err := runLogged(ctx, logPath, "", nil, "debootstrap", "--variant="+rootfsVariant,
		"--include="+strings.Join(rootfsPackages, ","), debianSuite, target, mirror)
	if err != nil {
		t.Fatalf("debootstrap %s failed (%v); last lines:\n%s", debianSuite, err, tail(out, 30))
	}
	t.Logf("debootstrap --variant=%s %s (%d extra packages) took %s", rootfsVariant, debianSuite, len(rootfsPackages), time.Since(start).Round(time.Second))
	// Nothing may stay mounted or running in it before it is packed.
	cleanupTree(target)
	start = time.Now()
	tmp := tarball + ".tmp"
	if out, err := runLogged(ctx, filepath.Join(build, "tar.log"), "", nil, "tar", "-C", target, "--numeric-owner", compress, "-cf", tmp, "."); err != nil {
		os.Remove(tmp)
		t.Fatalf("pack the root filesystem: %v\n%s", err, tail(out, 20))
	}
	if err := os.Rename(tmp, tarball); err != nil {
		t.Fatal(err)
	}
	t.Logf("packed %s in %s", tarball, time.Since(start).Round(time.Second))
	return tarball
}

// runLogged runs a command in its own process group, its output to logPath
// and returned; the whole group is killed when it ends or ctx is done.
func runLogged(ctx context.Context, logPath, dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = env
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var buf bytes.Buffer
	var w io.Writer = &buf
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return "", err
		}
		defer f.Close()
		fmt.Fprintf(f, "$ %s %s\n", name, strings.Join(args, " "))
		w = io.MultiWriter(&buf, f)
	}
	cmd.Stdout = w
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		return "", err
	}
	err := cmd.Wait()
	// Whatever the command left behind in its group goes too.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	return buf.String(), err
}

// cleanupTree kills every process whose root is inside dir and unmounts
// everything mounted below it, deepest first, so that removing dir can never
// reach through a mount into the host.
func cleanupTree(dir string) {
	dir = filepath.Clean(dir)
	inside := func(p string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	if entries, err := os.ReadDir("/proc"); err == nil {
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			if root, err := os.Readlink(filepath.Join("/proc", e.Name(), "root")); err == nil && inside(root) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	var mounts []string
	if f, err := os.Open("/proc/self/mountinfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			fields := strings.Fields(s.Text())
			if len(fields) > 4 {
				if mp := unescapeMount(fields[4]); inside(mp) {
					mounts = append(mounts, mp)
				}
			}
		}
		f.Close()
	}
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	for _, mp := range mounts {
		_ = syscall.Unmount(mp, syscall.MNT_DETACH)
	}
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space, ...).
var octalEscape = regexp.MustCompile(`\\[0-7]{3}`)

func unescapeMount(s string) string {
	return octalEscape.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.ParseUint(m[1:], 8, 8)
		return string(rune(n))
	})
}

// removeTree removes a directory that held chroots, after cleanupTree.
func removeTree(dir string) error {
	cleanupTree(dir)
	return os.RemoveAll(dir)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// recap is one host's line of PLAY RECAP.
type recap struct {
	line                                           string
	ok, changed, unreachable, failed, skipped, res int
}

var recapRE = regexp.MustCompile(`(?m)^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)`)

// parseRecap reads the last PLAY RECAP of an ansible-playbook output.
func parseRecap(out string) map[string]recap {
	i := strings.LastIndex(out, "PLAY RECAP")
	if i < 0 {
		return nil
	}
	res := map[string]recap{}
	for _, m := range recapRE.FindAllStringSubmatch(out[i:], -1) {
		n := func(k int) int { v, _ := strconv.Atoi(m[k]); return v }
		res[m[1]] = recap{line: strings.Join(strings.Fields(m[0]), " "), ok: n(2), changed: n(3), unreachable: n(4), failed: n(5), skipped: n(6), res: n(7)}
	}
	return res
}
