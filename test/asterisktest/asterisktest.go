// Package asterisktest starts a real Asterisk for integration tests: in a
// temporary directory, with a rendered configuration, listening on
// 127.0.0.1 only. Tests skip with one line when no Asterisk is installed.
//
// KURODENWA_TEST_ASTERISK names the binary (default: "asterisk" on PATH);
// KURODENWA_TEST_ASTERISK_MODULES and KURODENWA_TEST_ASTERISK_DATA its
// module and data directories when they are not beside the binary
// (PREFIX/lib/asterisk/modules, PREFIX/var/lib/asterisk) or in a
// distribution's usual place.
package asterisktest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary returns the Asterisk binary to test with, or why there is none.
func Binary() (string, string) {
	if p := os.Getenv("KURODENWA_TEST_ASTERISK"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Sprintf("KURODENWA_TEST_ASTERISK=%s: %v", p, err)
		}
		return p, ""
	}
	p, err := exec.LookPath("asterisk")
	if err != nil {
		return "", "no asterisk binary on PATH and KURODENWA_TEST_ASTERISK is not set"
	}
	return p, ""
}

// ModuleDir finds the module directory of the Asterisk at bin.
func ModuleDir(bin string) (string, error) {
	if d := os.Getenv("KURODENWA_TEST_ASTERISK_MODULES"); d != "" {
		return d, nil
	}
	prefix := filepath.Dir(filepath.Dir(bin))
	for _, d := range []string{
		filepath.Join(prefix, "lib", "asterisk", "modules"),
		filepath.Join(prefix, "lib64", "asterisk", "modules"),
		"/usr/lib/asterisk/modules",
		"/usr/lib/x86_64-linux-gnu/asterisk/modules",
		"/usr/lib/aarch64-linux-gnu/asterisk/modules",
		"/usr/lib64/asterisk/modules",
	} {
		if _, err := os.Stat(filepath.Join(d, "chan_pjsip.so")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no module directory with chan_pjsip.so found for %s: set KURODENWA_TEST_ASTERISK_MODULES", bin)
}

// DataDir finds the data directory (documentation, sounds) of the Asterisk
// at bin: without its XML documentation Stasis refuses to start.
func DataDir(bin string) (string, error) {
	if d := os.Getenv("KURODENWA_TEST_ASTERISK_DATA"); d != "" {
		return d, nil
	}
	prefix := filepath.Dir(filepath.Dir(bin))
	for _, d := range []string{
		filepath.Join(prefix, "var", "lib", "asterisk"),
		filepath.Join(prefix, "share", "asterisk"),
		"/usr/share/asterisk",
		"/var/lib/asterisk",
	} {
		if _, err := os.Stat(filepath.Join(d, "documentation")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no data directory with documentation/ found for %s: set KURODENWA_TEST_ASTERISK_DATA", bin)
}

// FreePort returns a port free on 127.0.0.1 for both TCP and UDP.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no port free for both TCP and UDP")
	return 0
}

// Instance is a running Asterisk.
type Instance struct {
	bin, conf, dir string
	cmd            *exec.Cmd
	log            *lockedBuffer
}

// Dir is the instance's root; its configuration is in Dir()/etc.
func (a *Instance) Dir() string { return a.dir }

// Start writes files into a fresh etc directory and starts Asterisk in the
// foreground. The instance is stopped, and its directory removed unless the
// test failed, when the test ends. It skips the test when there is no
// Asterisk.
func Start(t testing.TB, files map[string][]byte) *Instance {
	t.Helper()
	bin, why := Binary()
	if bin == "" {
		t.Skip("skipping: " + why)
	}
	mods, err := ModuleDir(bin)
	if err != nil {
		t.Fatal(err)
	}
	data, err := DataDir(bin)
	if err != nil {
		t.Fatal(err)
	}
	// The control socket's path must stay under 108 bytes: use /tmp, not
	// t.TempDir()'s long names.
	dir, err := os.MkdirTemp("", "kdast")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"etc", "varlib", "spool", "run", "log", "data", "moh"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, "etc", name), data, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "etc", "asterisk.conf")
	asteriskConf := fmt.Sprintf(`[directories]
astetcdir => %[1]s/etc
astmoddir => %[2]s
astvarlibdir => %[1]s/varlib
astdbdir => %[1]s/varlib
astkeydir => %[1]s/varlib
astdatadir => %[4]s
astagidir => %[1]s/data/agi-bin
astspooldir => %[1]s/spool
astrundir => %[1]s/run
astlogdir => %[1]s/log
astsbindir => %[3]s
[options]
documentation_language = en_US
`, dir, mods, filepath.Dir(bin), data)
	if err := os.WriteFile(conf, []byte(asteriskConf), 0o640); err != nil {
		t.Fatal(err)
	}
	a := &Instance{bin: bin, conf: conf, dir: dir, log: &lockedBuffer{}}
	a.cmd = exec.Command(bin, "-C", conf, "-f", "-n", "-g")
	a.cmd.Dir = dir
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := a.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	a.cmd.Stderr = a.cmd.Stdout
	ready, exited := make(chan struct{}), make(chan struct{})
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		defer close(exited)
		a.readLog(out, ready)
	}()
	t.Cleanup(func() {
		a.stop(t)
		if t.Failed() {
			t.Logf("Asterisk's directory is kept for inspection: %s\n--- Asterisk console ---\n%s", dir, a.log.String())
			return
		}
		os.RemoveAll(dir)
	})
	select {
	case <-ready:
	case <-exited:
		t.Fatalf("Asterisk exited during start-up")
	case <-time.After(60 * time.Second):
		t.Fatalf("Asterisk did not become ready within 60 s")
	}
	return a
}

// readLog keeps the console output and signals when Asterisk is ready.
func (a *Instance) readLog(r io.Reader, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	once := sync.Once{}
	for sc.Scan() {
		line := sc.Text()
		a.log.WriteLine(line)
		if strings.Contains(line, "Asterisk Ready.") {
			once.Do(func() { close(ready) })
		}
	}
}

// CLI runs one CLI command through the control socket.
func (a *Instance) CLI(t testing.TB, command string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, a.bin, "-C", a.conf, "-rx", command).CombinedOutput()
	if err != nil {
		t.Fatalf("asterisk -rx %q: %v\n%s", command, err, out)
	}
	return string(out)
}

// Log returns the console output so far.
func (a *Instance) Log() string { return a.log.String() }

// WaitLog waits (bounded) until the console shows a line containing s.
func (a *Instance) WaitLog(t testing.TB, s string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if line, ok := a.log.Find(s); ok {
			return line
		}
		if time.Now().After(deadline) {
			t.Fatalf("Asterisk's console showed no %q within %v", s, within)
		}
		a.log.Wait(time.Until(deadline))
	}
}

func (a *Instance) stop(t testing.TB) {
	if a.cmd.Process == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = exec.CommandContext(ctx, a.bin, "-C", a.conf, "-rx", "core stop now").Run()
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	// Anything it started in its process group goes too.
	_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
}

// lockedBuffer is the console log, shared with waiters.
type lockedBuffer struct {
	mu    sync.Mutex
	lines []string
	cond  chan struct{}
}

func (b *lockedBuffer) WriteLine(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, s)
	if b.cond != nil {
		close(b.cond)
		b.cond = nil
	}
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

func (b *lockedBuffer) Find(s string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.lines {
		if strings.Contains(l, s) {
			return l, true
		}
	}
	return "", false
}

// Wait blocks until a new line arrives or d passes.
func (b *lockedBuffer) Wait(d time.Duration) {
	b.mu.Lock()
	if b.cond == nil {
		b.cond = make(chan struct{})
	}
	c := b.cond
	b.mu.Unlock()
	select {
	case <-c:
	case <-time.After(d):
	}
}
