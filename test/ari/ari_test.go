// Package ari_test runs the ARI application (the real ari-app binary)
// against a real Asterisk with the rendered configuration, and real SIP
// phones played by sipp. It skips with one line when Asterisk or sipp is
// missing (see test/README.md).
package ari_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	asteriskconf "github.com/kurodenwa/kurodenwa/asterisk-conf"
	"github.com/kurodenwa/kurodenwa/internal/site"
	"github.com/kurodenwa/kurodenwa/internal/site/sitetest"
	"github.com/kurodenwa/kurodenwa/test/asterisktest"
)

// pbx is one Asterisk with the ARI application connected to it.
type pbx struct {
	ast     *asterisktest.Instance
	sipPort int
	api     string
	env     []string
	bin     string
	app     *process
	// stateDir keeps the app's Mantela cache across its restarts.
	stateDir string
}

var secrets = sitetest.Secrets()

const example = "../../asterisk-conf/examples/site.yaml"

func startPBX(t *testing.T, extraEnv ...string) *pbx {
	t.Helper()
	if bin, why := asterisktest.Binary(); bin == "" {
		t.Skip("skipping: " + why)
	}
	if _, err := exec.LookPath("sipp"); err != nil {
		t.Skip("skipping: no sipp on PATH (Debian package sip-tester)")
	}
	p := &pbx{sipPort: asterisktest.FreePort(t)}
	httpPort, agiPort, apiPort := asterisktest.FreePort(t), asterisktest.FreePort(t), asterisktest.FreePort(t)
	p.api = fmt.Sprintf("127.0.0.1:%d", apiPort)
	env := map[string]string{
		"KURODENWA_EXCHANGE_SIP_UDP":                        fmt.Sprintf("127.0.0.1:%d", p.sipPort),
		"KURODENWA_EXCHANGE_SIP_TCP":                        fmt.Sprintf("127.0.0.1:%d", p.sipPort),
		"KURODENWA_ARI_BIND":                                fmt.Sprintf("127.0.0.1:%d", httpPort),
		"KURODENWA_ARI_FASTAGI":                             fmt.Sprintf("127.0.0.1:%d", agiPort),
		"KURODENWA_ARI_API":                                 p.api,
		"KURODENWA_ARI_DRAIN_TIMEOUT":                       "5s",
		"KURODENWA_EXCHANGE_NAT_EXTERNAL_SIGNALING_ADDRESS": "192.0.2.1",
		"KURODENWA_EXCHANGE_NAT_EXTERNAL_MEDIA_ADDRESS":     "192.0.2.1",
		"KURODENWA_PEERS_MINATO_HOST":                       "192.0.2.20",
		"KURODENWA_EXCHANGE_MOH_DIRECTORY":                  t.TempDir(),
		// sipp's phones take a qualify OPTIONS for a first call and then
		// refuse the real INVITE: ask them nothing.
		"KURODENWA_EXTENSIONS_BLACKPHONE_QUALIFY_FREQUENCY": "0s",
		"KURODENWA_EXTENSIONS_LINPHONE_QUALIFY_FREQUENCY":   "0s",
		"KURODENWA_EXTENSIONS_AGEPHONE_QUALIFY_FREQUENCY":   "0s",
		// Nothing listens there: the Mantela fetch fails at once, on
		// loopback, and is only logged.
		"KURODENWA_PEERS_SHIBUYA_MANTELA": "http://127.0.0.1:1/mantela.json",
	}
	for k, v := range secrets {
		env[k] = v
	}
	s, err := site.Load(example, site.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	require.NoError(t, err)
	rendered, err := asteriskconf.Render(s)
	require.NoError(t, err)
	files := map[string][]byte{}
	for _, f := range rendered {
		files[f.Name] = f.Data
	}
	p.ast = asterisktest.Start(t, files)

	p.bin = filepath.Join(t.TempDir(), "ari-app")
	p.stateDir = t.TempDir()
	build := exec.Command("go", "build", "-o", p.bin, "../../ari-app")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ari-app: %s", out)
	for k, v := range env {
		p.env = append(p.env, k+"="+v)
	}
	p.env = append(p.env, extraEnv...)
	p.startApp(t)
	return p
}

// startApp starts ari-app and waits until it is connected to ARI.
func (p *pbx) startApp(t *testing.T) {
	t.Helper()
	p.app = startProcess(t, "ari-app", append(os.Environ(), p.env...), p.bin, "serve", "--site", example, "--log-level", "debug",
		"--state-dir", p.stateDir)
	p.waitConnected(t, p.app)
}

// killApp kills ari-app at once, as a crash would.
func (p *pbx) killApp(t *testing.T) {
	t.Helper()
	_ = syscall.Kill(-p.app.cmd.Process.Pid, syscall.SIGKILL)
	p.app.wait(10 * time.Second)
	require.True(t, p.app.exited(), "ari-app did not die")
}

// waitConnected waits, bounded, until /health says ARI is connected.
func (p *pbx) waitConnected(t *testing.T, app *process) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + p.api + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		app.wait(200 * time.Millisecond) // returns early if it died
		if app.exited() {
			t.Fatalf("ari-app exited:\n%s", app.output())
		}
	}
	t.Fatalf("ari-app never connected to ARI:\n%s", app.output())
}

type callJSON struct {
	ID, Direction, State, Dialled, Target, Result, Reason string
	Answered                                              *time.Time
}

func (p *pbx) calls(t *testing.T) (live, recent []callJSON) {
	t.Helper()
	resp, err := http.Get("http://" + p.api + "/calls")
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct{ Live, Recent []callJSON }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out.Live, out.Recent
}

// waitCall waits, bounded, for a call that satisfies ok.
func (p *pbx) waitCall(t *testing.T, what string, ok func(live bool, c callJSON) bool) callJSON {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		live, recent := p.calls(t)
		for _, c := range live {
			if ok(true, c) {
				return c
			}
		}
		for _, c := range recent {
			if ok(false, c) {
				return c
			}
		}
		time.Sleep(100 * time.Millisecond) // polling the API is the only way to see the engine
	}
	l, r := p.calls(t)
	t.Fatalf("no call %s within 30 s; live %+v recent %+v", what, l, r)
	return callJSON{}
}

// register makes endpoint's contact the given local port.
func (p *pbx) register(t *testing.T, user, password string, port int) {
	t.Helper()
	sipp(t, "register "+user, "-sf", "testdata/register.xml", "-s", user, "-au", user, "-ap", password,
		"-key", "contact_port", fmt.Sprint(port), "-p", fmt.Sprint(port), p.target()).mustSucceed(t, 20*time.Second, p)
}

func (p *pbx) target() string { return fmt.Sprintf("127.0.0.1:%d", p.sipPort) }

func TestInboundDIDRingsTheBlackPhone(t *testing.T) {
	p := startPBX(t)
	port := asterisktest.FreePort(t)
	p.register(t, "blackphone", secrets["KURODENWA_EXTENSIONS_BLACKPHONE_PASSWORD"], port)
	phone := sipp(t, "black phone answers", "-sf", "testdata/answer_then_bye.xml", "-s", "blackphone", "-aa", "-d", "1500",
		"-p", fmt.Sprint(port), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())

	// Twilio delivers the DID (a Local channel stands in for the trunk).
	p.ast.CLI(t, "channel originate Local/+815012345678@from-twilio application Wait 8")
	phone.mustSucceed(t, 30*time.Second, p)

	c := p.waitCall(t, "inbound, completed", func(live bool, c callJSON) bool {
		return !live && c.Direction == "inbound" && c.Result == "completed"
	})
	assert.Equal(t, "+815012345678", c.Dialled)
	assert.Equal(t, "blackphone", c.Target)
	assert.NotNil(t, c.Answered)
}

func TestOutboundCallAndHangupTone(t *testing.T) {
	p := startPBX(t)
	lport := asterisktest.FreePort(t)
	p.register(t, "linphone", secrets["KURODENWA_EXTENSIONS_LINPHONE_PASSWORD"], lport)
	softphone := sipp(t, "linphone answers", "-sf", "testdata/answer_then_bye.xml", "-s", "linphone", "-aa", "-d", "1500",
		"-p", fmt.Sprint(lport), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())

	// The black phone dials 202 and stays off hook after Linphone hangs up.
	black := sipp(t, "black phone calls 202", "-sf", "testdata/call_then_wait.xml", "-s", "202", "-key", "caller", "blackphone",
		"-au", "blackphone", "-ap", secrets["KURODENWA_EXTENSIONS_BLACKPHONE_PASSWORD"], "-d", "6000",
		"-p", fmt.Sprint(asterisktest.FreePort(t)), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	softphone.mustSucceed(t, 30*time.Second, p)
	// Linphone has gone; the black phone is still up and hears 終話音.
	p.waitCall(t, "with the hang-up tone", func(live bool, c callJSON) bool {
		return live && c.Direction == "outbound" && c.State == "signalling"
	})
	black.mustSucceed(t, 30*time.Second, p)
	c := p.waitCall(t, "outbound, completed", func(live bool, c callJSON) bool {
		return !live && c.Direction == "outbound" && c.Result == "completed"
	})
	assert.Equal(t, "202", c.Dialled)
	assert.Equal(t, "linphone", c.Target)
}

func TestBusyCalleeGivesBusyTone(t *testing.T) {
	p := startPBX(t, "KURODENWA_CALLS_TONE_LIMIT=2s")
	lport := asterisktest.FreePort(t)
	p.register(t, "linphone", secrets["KURODENWA_EXTENSIONS_LINPHONE_PASSWORD"], lport)
	busy := sipp(t, "linphone is busy", "-sf", "testdata/busy.xml", "-s", "linphone", "-aa",
		"-p", fmt.Sprint(lport), p.target())
	// The black phone hears the busy tone in band (183), then 486.
	black := sipp(t, "black phone calls busy 202", "-sf", "testdata/call_busy.xml", "-s", "202", "-key", "caller", "blackphone",
		"-au", "blackphone", "-ap", secrets["KURODENWA_EXTENSIONS_BLACKPHONE_PASSWORD"],
		"-p", fmt.Sprint(asterisktest.FreePort(t)), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	busy.mustSucceed(t, 30*time.Second, p)
	black.mustSucceed(t, 30*time.Second, p)
	c := p.waitCall(t, "outbound, busy", func(live bool, c callJSON) bool {
		return !live && c.Direction == "outbound" && c.Result == "busy"
	})
	assert.Equal(t, "linphone", c.Target)
}

// When the application dies mid-call, the call goes on in Asterisk; the
// restarted application finds it in the Stasis app and adopts it.
func TestRestartedAppAdoptsTalkingCall(t *testing.T) {
	p := startPBX(t)
	port := asterisktest.FreePort(t)
	p.register(t, "blackphone", secrets["KURODENWA_EXTENSIONS_BLACKPHONE_PASSWORD"], port)
	phone := sipp(t, "black phone talks 12 s", "-sf", "testdata/answer_then_bye.xml", "-s", "blackphone", "-aa", "-d", "12000",
		"-p", fmt.Sprint(port), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	p.ast.CLI(t, "channel originate Local/+815012345678@from-twilio application Wait 30")
	p.waitCall(t, "talking", func(live bool, c callJSON) bool { return live && c.State == "talking" })

	p.killApp(t)
	p.startApp(t)
	p.waitCall(t, "adopted, talking", func(live bool, c callJSON) bool {
		return live && c.Direction == "adopted" && c.State == "talking"
	})
	phone.mustSucceed(t, 30*time.Second, p)
	p.waitCall(t, "adopted, completed", func(live bool, c callJSON) bool {
		return !live && c.Direction == "adopted" && c.Result == "completed"
	})
	assert.Contains(t, p.ast.CLI(t, "core show channels count"), "0 active calls", "no leg left half up")
}

// A softphone in a call with the black phone transfers it to AGEphone with
// a blind REFER: Asterisk carries the transfer out and the black phone ends
// up talking to AGEphone.
func TestSoftphoneBlindTransfer(t *testing.T) {
	p := startPBX(t)
	bport, aport := asterisktest.FreePort(t), asterisktest.FreePort(t)
	p.register(t, "blackphone", secrets["KURODENWA_EXTENSIONS_BLACKPHONE_PASSWORD"], bport)
	p.register(t, "agephone", secrets["KURODENWA_EXTENSIONS_AGEPHONE_PASSWORD"], aport)
	black := sipp(t, "black phone answers", "-sf", "testdata/answer_then_bye.xml", "-s", "blackphone", "-aa", "-d", "8000",
		"-p", fmt.Sprint(bport), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	age := sipp(t, "agephone answers", "-sf", "testdata/answer_then_bye.xml", "-s", "agephone", "-aa", "-d", "2000",
		"-p", fmt.Sprint(aport), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	lin := sipp(t, "linphone transfers", "-sf", "testdata/blind_transfer.xml", "-s", "201", "-key", "caller", "linphone",
		"-key", "target", "203", "-au", "linphone", "-ap", secrets["KURODENWA_EXTENSIONS_LINPHONE_PASSWORD"],
		"-p", fmt.Sprint(asterisktest.FreePort(t)), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	lin.mustSucceed(t, 30*time.Second, p)
	age.mustSucceed(t, 30*time.Second, p) // AGEphone was rung, answered and hung up
	black.mustSucceed(t, 30*time.Second, p)
}

// process is a child process in its own process group, killed with the
// group when the test ends; its output is shown when the test fails.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func startProcess(t *testing.T, name string, env []string, bin string, args ...string) *process {
	t.Helper()
	p := &process{name: name, cmd: exec.Command(bin, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, p.cmd.Start(), "start %s", name)
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("--- %s output ---\n%s", name, p.output())
		}
	})
	return p
}

func (p *process) output() string { return p.out.String() }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) wait(d time.Duration) {
	select {
	case <-p.done:
	case <-time.After(d):
	}
}

// mustSucceed waits, bounded, for the process to exit 0.
func (p *process) mustSucceed(t *testing.T, within time.Duration, pbx *pbx) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("%s did not finish within %v:\n%s\n--- Asterisk ---\n%s", p.name, within, p.output(), pbx.ast.Log())
	}
	if p.err != nil {
		t.Fatalf("%s failed: %v\n%s", p.name, p.err, p.output())
	}
}

// sipp starts a sipp scenario on 127.0.0.1 against the PBX.
func sipp(t *testing.T, name string, args ...string) *process {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	require.NoError(t, err)
	base := []string{"-m", "1", "-i", "127.0.0.1", "-nostdin", "-timeout", "60s", "-trace_err",
		"-error_file", filepath.Join(t.TempDir(), "errors.log")}
	all := append(base, args...)
	last := all[len(all)-1]
	if !strings.Contains(last, ":") { // no remote host given: the register case
		t.Fatalf("sipp %s: the last argument must be the PBX address", name)
	}
	return startProcess(t, "sipp "+name, os.Environ(), bin, all...)
}
