package ari_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"golang.org/x/net/websocket"

	asteriskconf "github.com/kurodenwa/kurodenwa/asterisk-conf"
	"github.com/kurodenwa/kurodenwa/internal/site"
	"github.com/kurodenwa/kurodenwa/internal/site/sitetest"
	"github.com/kurodenwa/kurodenwa/internal/syncbuf"
	"github.com/kurodenwa/kurodenwa/test/asterisktest"
)

// The external mode: an Asterisk run by hand with the rendered
// configuration of a site file (see test/README.md).
const (
	envARIURL      = "KURODENWA_TEST_ARI_URL"      // e.g. http://127.0.0.1:8088
	envARIUser     = "KURODENWA_TEST_ARI_USER"     // default: the site's ari.user
	envARIPassword = "KURODENWA_TEST_ARI_PASSWORD" // default: the site's ARI password
	envSite        = "KURODENWA_TEST_SITE"         // the site file the Asterisk runs
	envSIP         = "KURODENWA_TEST_SIP"          // its SIP UDP address, for the sipp phones
)

// testApp is the Stasis application the tests' own channels (the Twilio
// caller's side of a Local channel) wait in, answered, until hung up.
const testApp = "kurodenwa-test"

// pbx is one Asterisk with the ARI application connected to it.
type pbx struct {
	ast  *asterisktest.Instance // nil when the Asterisk is external
	site *site.Site
	// siteFile is what ari-app serves; sip is Asterisk's SIP UDP address
	// ("" when external and none was given: no phones).
	siteFile, sip string
	ari           ariClient
	api           string
	env           []string
	bin           string
	app           *process
	// stateDir keeps the app's Mantela cache across its restarts.
	stateDir string
	// before are the channels that were up before the test began.
	before map[string]bool
}

// needs says what a test needs beyond an Asterisk with ari-app.
type needs uint8

const (
	// needPhones: sipp phones (sipp on PATH; with an external Asterisk,
	// its SIP address in KURODENWA_TEST_SIP).
	needPhones needs = 1 << iota
	// needOwnAsterisk: an Asterisk the test starts (its CLI, its
	// configuration changed by the environment).
	needOwnAsterisk
)

var secrets = sitetest.Secrets()

const example = "../../asterisk-conf/examples/site.yaml"

// start gives an Asterisk with ari-app connected: an external one when
// KURODENWA_TEST_ARI_URL is set, else one of its own. extraEnv goes to
// ari-app (and, for an own Asterisk, to the rendering of its site).
func start(t *testing.T, n needs, extraEnv ...string) *pbx {
	t.Helper()
	skipUnless(t, n)
	var p *pbx
	if os.Getenv(envARIURL) != "" {
		p = external(t, n, extraEnv)
	} else {
		p = own(t, n, extraEnv)
	}
	p.bin = filepath.Join(t.TempDir(), "ari-app")
	p.stateDir = t.TempDir()
	build := exec.Command("go", "build", "-o", p.bin, "../../ari-app")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ari-app: %s", out)
	p.before = map[string]bool{}
	for _, c := range p.ari.channels(t) {
		p.before[c.ID] = true
	}
	p.ari.listen(t)
	p.startApp(t)
	return p
}

// skipUnless skips, with one line, a test whose needs cannot be met,
// before anything is started (so that subtests skip once, in the parent).
func skipUnless(t *testing.T, n needs) {
	t.Helper()
	if os.Getenv(envARIURL) == "" {
		if bin, why := asterisktest.Binary(); bin == "" {
			t.Skip("skipping: " + why)
		}
		needSipp(t, n)
		return
	}
	if n&needOwnAsterisk != 0 {
		t.Skip("skipping: needs an Asterisk of its own (its CLI or a configuration of its own), and " + envARIURL + " names an external one")
	}
	if n&needPhones != 0 && os.Getenv(envSIP) == "" {
		t.Skip("skipping: needs sipp phones, and " + envSIP + " (the external Asterisk's SIP UDP address) is not set")
	}
	needSipp(t, n)
	if os.Getenv(envSite) == "" {
		t.Skip("skipping: " + envARIURL + " is set but " + envSite + " (the site file its configuration was rendered from) is not")
	}
}

func needSipp(t *testing.T, n needs) {
	t.Helper()
	if n&needPhones == 0 {
		return
	}
	if _, err := exec.LookPath("sipp"); err != nil {
		t.Skip("skipping: no sipp on PATH (Debian package sip-tester)")
	}
}

// own renders the example site and starts an Asterisk with it.
func own(t *testing.T, n needs, extraEnv []string) *pbx {
	t.Helper()
	sipPort := asterisktest.FreePort(t)
	httpPort, agiPort, apiPort := asterisktest.FreePort(t), asterisktest.FreePort(t), asterisktest.FreePort(t)
	p := &pbx{siteFile: example, sip: fmt.Sprintf("127.0.0.1:%d", sipPort), api: fmt.Sprintf("127.0.0.1:%d", apiPort)}
	env := map[string]string{
		"KURODENWA_EXCHANGE_SIP_UDP":                        p.sip,
		"KURODENWA_EXCHANGE_SIP_TCP":                        p.sip,
		"KURODENWA_ARI_BIND":                                fmt.Sprintf("127.0.0.1:%d", httpPort),
		"KURODENWA_ARI_FASTAGI":                             fmt.Sprintf("127.0.0.1:%d", agiPort),
		"KURODENWA_ARI_API":                                 p.api,
		"KURODENWA_ARI_DRAIN_TIMEOUT":                       "5s",
		"KURODENWA_EXCHANGE_NAT_EXTERNAL_SIGNALING_ADDRESS": "192.0.2.1",
		"KURODENWA_EXCHANGE_NAT_EXTERNAL_MEDIA_ADDRESS":     "192.0.2.1",
		"KURODENWA_PEERS_MINATO_HOST":                       "192.0.2.20",
		"KURODENWA_EXCHANGE_MOH_DIRECTORY":                  mohDir(t),
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
	for _, kv := range extraEnv {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	s, err := site.Load(example, site.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	require.NoError(t, err)
	p.site = s
	rendered, err := asteriskconf.Render(s)
	require.NoError(t, err)
	files := map[string][]byte{}
	for _, f := range rendered {
		files[f.Name] = f.Data
	}
	p.ast = asterisktest.Start(t, files)
	p.ari = ariClient{base: fmt.Sprintf("http://127.0.0.1:%d/ari", httpPort), user: s.ARI.User, password: s.ARI.Password, dtmf: &digits{}}
	for k, v := range env {
		p.env = append(p.env, k+"="+v)
	}
	return p
}

// mohDir holds one second of silence, so that the default music on hold
// class exists and a holding bridge really plays it.
func mohDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(d, "silence.ulaw"), bytes.Repeat([]byte{0xff}, 8000), 0o644))
	return d
}

// external uses the Asterisk at KURODENWA_TEST_ARI_URL, which runs the
// rendered configuration of KURODENWA_TEST_SITE. Only ari-app is started:
// on free loopback ports for its API and FastAGI, the site's secrets and
// settings from this process's environment, extraEnv over them.
func external(t *testing.T, n needs, extraEnv []string) *pbx {
	t.Helper()
	siteFile := os.Getenv(envSite)
	s, err := site.Load(siteFile, site.Options{LookupEnv: os.LookupEnv})
	require.NoError(t, err, "%s=%s", envSite, siteFile)
	u, err := url.Parse(os.Getenv(envARIURL))
	require.NoError(t, err, envARIURL)
	require.NotEmpty(t, u.Host, "%s: want http://host:port", envARIURL)
	user, password := os.Getenv(envARIUser), os.Getenv(envARIPassword)
	if user == "" {
		user = s.ARI.User
	}
	if password == "" {
		password = s.ARI.Password
	}
	p := &pbx{site: s, siteFile: siteFile, sip: os.Getenv(envSIP),
		api: fmt.Sprintf("127.0.0.1:%d", asterisktest.FreePort(t)),
		ari: ariClient{base: "http://" + u.Host + "/ari", user: user, password: password, dtmf: &digits{}}}
	p.env = append([]string{
		"KURODENWA_ARI_BIND=" + u.Host,
		"KURODENWA_ARI_USER=" + user,
		"KURODENWA_ARI_PASSWORD=" + password,
		"KURODENWA_ARI_API=" + p.api,
		// The dialplan's FastAGI fallback is not tested here: keep the
		// app's handler off the site's port, which may be in use.
		fmt.Sprintf("KURODENWA_ARI_FASTAGI=127.0.0.1:%d", asterisktest.FreePort(t)),
		"KURODENWA_ARI_DRAIN_TIMEOUT=5s",
	}, extraEnv...)
	return p
}

// startApp starts ari-app and waits until it is connected to ARI.
func (p *pbx) startApp(t *testing.T) {
	t.Helper()
	p.app = startProcess(t, "ari-app", append(os.Environ(), p.env...), p.bin, "serve", "--site", p.siteFile, "--log-level", "debug",
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

// astLog is the own Asterisk's console, for failure messages.
func (p *pbx) astLog() string {
	if p.ast == nil {
		return "(external Asterisk: see its own log)"
	}
	return p.ast.Log()
}

// The site's names and numbers, so that an external site may differ from
// the example.

func (p *pbx) number(t *testing.T, ep string) string {
	t.Helper()
	x, ok := p.site.Extensions[ep]
	if !ok {
		t.Skipf("skipping: the site has no extension %q", ep)
	}
	return x.Number
}

func (p *pbx) password(t *testing.T, ep string) string {
	t.Helper()
	x, ok := p.site.Extensions[ep]
	if !ok {
		t.Skipf("skipping: the site has no extension %q", ep)
	}
	return x.Password
}

func (p *pbx) sipUser(ep string) string {
	if u := p.site.Extensions[ep].SIPUser; u != "" {
		return u
	}
	return ep
}

// did is a Twilio DID that rings ep.
func (p *pbx) did(t *testing.T, ep string) string {
	t.Helper()
	for _, d := range p.site.Twilio.DIDs {
		if d.Destination == ep {
			return d.Number
		}
	}
	t.Skipf("skipping: the site has no Twilio DID for %q", ep)
	return ""
}

type partyJSON struct{ Channel, Endpoint, Number, Role, State string }

type callJSON struct {
	ID, Direction, State, Dialled, Target, Result, Reason string
	Parties                                               []partyJSON
	Answered                                              *time.Time
}

// party is the call's live leg of endpoint ep (a Twilio caller's is
// "twilio").
func (c callJSON) party(ep string) (partyJSON, bool) {
	for _, l := range c.Parties {
		if l.Endpoint == ep && l.State != "gone" {
			return l, true
		}
	}
	return partyJSON{}, false
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

// register makes endpoint's contact the given local port. An external
// Asterisk keeps contacts after the test: they are removed at its end, so
// that no later test's call rings a sipp that has gone (or another test's
// sipp on a reused port).
func (p *pbx) register(t *testing.T, user, password string, port int) {
	t.Helper()
	p.registerFor(t, user, password, port, 300)
	if p.ast == nil {
		t.Cleanup(func() { p.registerFor(t, user, password, port, 0) })
	}
}

func (p *pbx) registerFor(t *testing.T, user, password string, port, expires int) {
	t.Helper()
	sipp(t, fmt.Sprintf("register %s for %d s", user, expires), "-sf", "testdata/register.xml", "-s", user, "-au", user, "-ap", password,
		"-key", "contact_port", fmt.Sprint(port), "-key", "expires", fmt.Sprint(expires),
		"-p", fmt.Sprint(port), p.target()).mustSucceed(t, 20*time.Second, p)
}

// registerPhone registers the site's extension ep at a free port and
// returns the port.
func (p *pbx) registerPhone(t *testing.T, ep string) int {
	t.Helper()
	port := asterisktest.FreePort(t)
	p.register(t, p.sipUser(ep), p.password(t, ep), port)
	return port
}

func (p *pbx) target() string { return p.sip }

// callDID delivers a Twilio call for the DID: a Local channel into the
// from-twilio context stands in for the trunk. Its other half, the
// caller, is answered only when the app answers and waits in the test's
// Stasis application until it is hung up (hangUp, or the test's end).
func (p *pbx) callDID(t *testing.T, number string) string {
	t.Helper()
	return p.ari.originate(t, "Local/"+number+"@from-twilio")
}

// waitMOH waits, bounded, until a holding bridge plays music on hold:
// ARI plays it into the bridge from an Announcer channel that ARI does
// not list, so only an own Asterisk's CLI shows it (an external one is
// not checked).
func (p *pbx) waitMOH(t *testing.T) {
	t.Helper()
	if p.ast == nil {
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := p.ast.CLI(t, "core show channels concise")
		if strings.Contains(out, "Announcer/ARI_MOH") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no music on hold within 10 s:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond) // polling the CLI is the only way to see it
	}
}

// waitNoChannelsLeft waits, bounded, until every channel the test made
// is gone.
func (p *pbx) waitNoChannelsLeft(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var left []string
	for time.Now().Before(deadline) {
		left = left[:0]
		for _, c := range p.ari.channels(t) {
			if !p.before[c.ID] {
				left = append(left, c.Name+" ("+c.State+")")
			}
		}
		if len(left) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond) // hang-ups take a moment to finish
	}
	t.Fatalf("channels left half up: %v", left)
}

// ariClient is the tests' own ARI access (REST and the test application).
type ariClient struct {
	base, user, password string
	dtmf                 *digits // received by the test application's channels
}

type ariChannel struct{ ID, Name, State string }

type ariBridge struct {
	ID         string
	BridgeType string `json:"bridge_type"`
	Channels   []string
}

// do runs one ARI request; out, when not nil, takes the JSON answer.
func (a ariClient) do(t *testing.T, method, path string, q url.Values, out any) int {
	t.Helper()
	u := a.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(method, u, nil)
	require.NoError(t, err)
	req.SetBasicAuth(a.user, a.password)
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	require.NoError(t, err, "ARI %s %s", method, path)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil && resp.StatusCode/100 == 2 {
		require.NoError(t, json.Unmarshal(body, out), "ARI %s %s: %s", method, path, body)
	}
	return resp.StatusCode
}

func (a ariClient) channels(t *testing.T) []ariChannel {
	t.Helper()
	var out []ariChannel
	require.Equal(t, http.StatusOK, a.do(t, "GET", "/channels", nil, &out))
	return out
}

func (a ariClient) channel(t *testing.T, id string) (ariChannel, bool) {
	t.Helper()
	var out ariChannel
	return out, a.do(t, "GET", "/channels/"+url.PathEscape(id), nil, &out) == http.StatusOK
}

func (a ariClient) bridges(t *testing.T) []ariBridge {
	t.Helper()
	var out []ariBridge
	require.Equal(t, http.StatusOK, a.do(t, "GET", "/bridges", nil, &out))
	return out
}

// bridgeOf is the bridge channel id is in.
func (a ariClient) bridgeOf(t *testing.T, id string) (ariBridge, bool) {
	t.Helper()
	for _, b := range a.bridges(t) {
		for _, c := range b.Channels {
			if c == id {
				return b, true
			}
		}
	}
	return ariBridge{}, false
}

// waitBridge waits, bounded, until channel id is in a bridge of the type
// ("holding" or "mixing") together with the channels with: the engine's
// state runs ahead of Asterisk.
func (a ariClient) waitBridge(t *testing.T, id, bridgeType string, with ...string) ariBridge {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, ok := a.bridgeOf(t, id)
		if ok && b.BridgeType == bridgeType && !slices.ContainsFunc(with, func(w string) bool { return !slices.Contains(b.Channels, w) }) {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("channel %s is in no %s bridge with %v within 10 s (bridge %+v)", id, bridgeType, with, b)
		}
		time.Sleep(100 * time.Millisecond) // polling ARI is the only way to see it
	}
}

// originate dials endpoint; once answered it waits in the test's
// application. It is hung up when the test ends.
func (a ariClient) originate(t *testing.T, endpoint string) string {
	t.Helper()
	var ch ariChannel
	code := a.do(t, "POST", "/channels", url.Values{"endpoint": {endpoint}, "app": {testApp}, "timeout": {"60"}}, &ch)
	require.Equal(t, http.StatusOK, code, "originate %s", endpoint)
	t.Cleanup(func() { a.do(t, "DELETE", "/channels/"+url.PathEscape(ch.ID), nil, nil) })
	return ch.ID
}

// hangUp hangs a channel up (404 if already gone is fine).
func (a ariClient) hangUp(t *testing.T, id string) {
	t.Helper()
	code := a.do(t, "DELETE", "/channels/"+url.PathEscape(id), nil, nil)
	require.Contains(t, []int{http.StatusNoContent, http.StatusNotFound}, code, "hang up %s", id)
}

// listen registers the test application for the test's duration: its
// websocket is read and the events dropped.
func (a ariClient) listen(t *testing.T) {
	t.Helper()
	u, err := url.Parse(a.base + "/events")
	require.NoError(t, err)
	u.Scheme = "ws"
	u.RawQuery = url.Values{"app": {testApp}, "api_key": {a.user + ":" + a.password}}.Encode()
	cfg, err := websocket.NewConfig(u.String(), "http://"+u.Host)
	require.NoError(t, err)
	cfg.Dialer = &net.Dialer{Timeout: 10 * time.Second}
	ws, err := websocket.DialConfig(cfg)
	require.NoError(t, err, "ARI websocket for %s", testApp)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var msg []byte
		for websocket.Message.Receive(ws, &msg) == nil {
			var ev struct {
				Type    string
				Digit   string
				Channel struct{ ID string }
			}
			if json.Unmarshal(msg, &ev) == nil && ev.Type == "ChannelDtmfReceived" {
				a.dtmf.add(ev.Channel.ID, ev.Digit)
			}
		}
	}()
	t.Cleanup(func() { ws.Close(); <-done })
}

// digits records the DTMF the test application's channels received.
type digits struct {
	mu sync.Mutex
	by map[string]string
}

func (d *digits) add(channel, digit string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.by == nil {
		d.by = map[string]string{}
	}
	d.by[channel] += digit
}

// received is what channel has received so far.
func (d *digits) received(channel string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.by[channel]
}

// process is a child process in its own process group, killed with the
// group when the test ends; its output is shown when the test fails.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{}
	err  error
}

func startProcess(t *testing.T, name string, env []string, bin string, args ...string) *process {
	t.Helper()
	p := &process{name: name, cmd: exec.Command(bin, args...), out: &syncbuf.Buffer{}, done: make(chan struct{})}
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
		t.Fatalf("%s did not finish within %v:\n%s\n--- Asterisk ---\n%s", p.name, within, p.output(), pbx.astLog())
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
