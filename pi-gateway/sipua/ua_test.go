package sipua

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/syncbuf"
	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/media"
)

// startUA runs a UA on 127.0.0.1 until the test ends; its log is shown
// when the test fails.
func startUA(t *testing.T, cfg Config) (*UA, *syncbuf.Buffer) {
	t.Helper()
	if cfg.Bind == "" {
		cfg.Bind = "127.0.0.1:0"
	}
	logs := &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ua, err := New(cfg, log)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ua.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("UA did not stop")
		}
		if t.Failed() || os.Getenv("SIPUA_TEST_LOG") != "" {
			t.Logf("log of %s:\n%s", cfg.User, logs.String())
		}
	})
	<-ua.running
	return ua, logs
}

// nextEvent waits (bounded) for a call's next event.
func nextEvent(t *testing.T, c *Call) CallEvent {
	t.Helper()
	select {
	case e, ok := <-c.Events():
		require.True(t, ok, "events closed")
		return e
	case <-time.After(10 * time.Second):
		t.Fatalf("no event from call %s in state %s", c.ID(), c.State())
	}
	return CallEvent{}
}

// waitEvent skips events until one of kind k.
func waitEvent(t *testing.T, c *Call, k EventKind) CallEvent {
	t.Helper()
	for {
		e := nextEvent(t, c)
		if e.Kind == k {
			return e
		}
		require.NotEqual(t, EventEnded, e.Kind, "call ended (%s) waiting for %s", e, k)
	}
}

func waitIncoming(t *testing.T, ua *UA) *Call {
	t.Helper()
	select {
	case c := <-ua.Incoming():
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no incoming call")
	}
	return nil
}

func uri(ua *UA, user string) string {
	return fmt.Sprintf("sip:%s@%s", user, ua.Addr())
}

// hearTone reads a call's audio until freq fills half a second.
func hearTone(t *testing.T, c *Call, freq float64) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	frame := make([]int16, media.FrameSamples)
	var pcm []int16
	for len(pcm) < 8000*8 {
		if err := c.Audio().Read(ctx, frame); err != nil {
			return false
		}
		pcm = append(pcm, frame...)
		if len(pcm) >= 4000 && (tone.Detector{Freq: freq}).Detect(pcm[len(pcm)-4000:]).OnShare > 0.95 {
			return true
		}
	}
	return false
}

// sendTone feeds a tone into the call until ctx ends.
func sendTone(ctx context.Context, c *Call, freq float64) {
	g, _ := tone.FromList(fmt.Sprint(freq))
	frame := make([]int16, media.FrameSamples)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.Done():
			return
		case <-tick.C:
			g.Read(frame)
			_ = c.Audio().Write(ctx, frame)
		}
	}
}

func TestCallBetweenTwoUAs(t *testing.T) {
	alice, _ := startUA(t, Config{User: "alice"})
	bob, _ := startUA(t, Config{User: "bob"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	call, err := alice.Dial(ctx, uri(bob, "bob"))
	require.NoError(t, err)
	in := waitIncoming(t, bob)
	assert.Equal(t, "alice", in.Remote().User)
	assert.Equal(t, Incoming, in.Direction())
	assert.Equal(t, StateRinging, in.State())
	assert.Equal(t, EventRinging, waitEvent(t, call, EventRinging).Kind)

	require.NoError(t, in.Answer(ctx))
	waitEvent(t, call, EventAnswered)
	waitEvent(t, in, EventAnswered)
	assert.Equal(t, StateConfirmed, call.State())

	go sendTone(ctx, call, 1004)
	go sendTone(ctx, in, 440)
	assert.True(t, hearTone(t, in, 1004), "bob hears alice's 1004 Hz")
	assert.True(t, hearTone(t, call, 440), "alice hears bob's 440 Hz")

	require.NoError(t, call.SendDigit(ctx, '7'))
	e := waitEvent(t, in, EventDTMF)
	assert.Equal(t, byte('7'), e.Digit)

	require.NoError(t, in.Hangup(ctx))
	e = waitEvent(t, call, EventEnded)
	assert.Equal(t, CauseRemoteHangup, e.Cause)
	assert.Equal(t, CauseLocalHangup, in.Ended().Cause)
	_, open := <-call.Events()
	assert.False(t, open, "events close after Ended")
	assert.ErrorIs(t, call.SendDigit(ctx, '1'), ErrCallEnded)
	assert.Positive(t, call.Stats().PacketsReceived)
}

func TestRejectBusyAndCancel(t *testing.T) {
	alice, _ := startUA(t, Config{User: "alice"})
	bob, _ := startUA(t, Config{User: "bob"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Rejected: 486.
	call, err := alice.Dial(ctx, uri(bob, "bob"))
	require.NoError(t, err)
	in := waitIncoming(t, bob)
	require.NoError(t, in.Reject(ctx, 486))
	e := waitEvent(t, call, EventEnded)
	assert.Equal(t, CauseRejected, e.Cause)
	assert.Equal(t, 486, e.Status)
	assert.Equal(t, CauseDeclined, waitEvent(t, in, EventEnded).Cause)

	// Cancelled before the answer.
	call, err = alice.Dial(ctx, uri(bob, "bob"))
	require.NoError(t, err)
	in = waitIncoming(t, bob)
	waitEvent(t, call, EventRinging)
	require.NoError(t, call.Hangup(ctx))
	e = waitEvent(t, in, EventEnded)
	assert.Equal(t, CauseCancelled, e.Cause)
	assert.Equal(t, CauseLocalHangup, call.Ended().Cause)
	assert.Error(t, in.Answer(ctx), "too late to answer")

	// Busy: bob has a call, a second caller gets 486 from the UA itself.
	carol, _ := startUA(t, Config{User: "carol"})
	call, err = alice.Dial(ctx, uri(bob, "bob"))
	require.NoError(t, err)
	in = waitIncoming(t, bob)
	require.NoError(t, in.Answer(ctx))
	second, err := carol.Dial(ctx, uri(bob, "bob"))
	require.NoError(t, err)
	e = waitEvent(t, second, EventEnded)
	assert.Equal(t, 486, e.Status)
	_, err = alice.Dial(ctx, uri(carol, "carol"))
	assert.ErrorIs(t, err, ErrBusy, "alice has one line")
	require.NoError(t, call.Hangup(ctx))
	assert.Equal(t, CauseRemoteHangup, waitEvent(t, in, EventEnded).Cause)
}

// A fake registrar: 401 with a digest challenge, then 200 with a short
// Expires, checking the credentials.
type fakeRegistrar struct {
	mu        sync.Mutex
	registers []*sip.Request
	granted   int
	password  string
	nonce     int
	options   int
}

func startRegistrar(t *testing.T, password string, granted int) (*fakeRegistrar, string) {
	t.Helper()
	r := &fakeRegistrar{password: password, granted: granted}
	sua, err := sipgo.NewUA(sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(slog.New(slog.DiscardHandler))),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(slog.New(slog.DiscardHandler))))
	require.NoError(t, err)
	srv, err := sipgo.NewServer(sua, sipgo.WithServerLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	srv.OnRegister(r.handle)
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		r.mu.Lock()
		r.options++
		r.mu.Unlock()
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	// Requests that come before ServeUDP reads wait in the socket.
	go func() { _ = srv.ServeUDP(conn) }()
	t.Cleanup(func() { conn.Close(); sua.Close() })
	return r, "sip:" + conn.LocalAddr().String()
}

func (r *fakeRegistrar) handle(req *sip.Request, tx sip.ServerTransaction) {
	r.mu.Lock()
	r.registers = append(r.registers, req)
	r.mu.Unlock()
	chal := &digest.Challenge{Realm: "kurodenwa", Nonce: fmt.Sprintf("n%d", r.nonce), Algorithm: "MD5", QOP: []string{"auth"}}
	ok := false
	if h := req.GetHeader("Authorization"); h != nil {
		cred, err := digest.ParseCredentials(h.Value())
		if err == nil && cred.Nonce == chal.Nonce {
			want, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: cred.URI, Username: cred.Username, Password: r.password, Cnonce: cred.Cnonce, Count: cred.Nc})
			ok = err == nil && want.Response == cred.Response
		}
	}
	if !ok {
		res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", chal.String()))
		_ = tx.Respond(res)
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	if c := req.Contact(); c != nil {
		cc := c.Clone()
		cc.Params = sip.NewParams()
		cc.Params.Add("expires", fmt.Sprint(r.granted))
		res.AppendHeader(cc)
	}
	_ = tx.Respond(res)
}

func (r *fakeRegistrar) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.registers)
}

func TestRegisterRefreshAndUnregister(t *testing.T) {
	reg, regURI := startRegistrar(t, "Secret-Pass-1234", 2)
	ua, logs := startUA(t, Config{User: "blackphone", Password: "Secret-Pass-1234", Registrar: regURI})
	deadline := time.After(15 * time.Second)
	registered := 0
	for registered < 3 {
		select {
		case st := <-ua.RegistrationUpdates():
			if st.Status == RegRegistered {
				registered++
				assert.WithinDuration(t, time.Now().Add(2*time.Second), st.Expires, time.Second)
			}
			require.NotEqual(t, RegFailed, st.Status, "registration failed: %v", st.Err)
		case <-deadline:
			t.Fatalf("only %d registrations", registered)
		}
	}
	// The first REGISTER is challenged; refreshes reuse the challenge.
	assert.Equal(t, 4, reg.count(), "401, 200, then two refreshes without a new challenge")
	assert.NotContains(t, logs.String(), "Secret-Pass-1234", "the password is never logged")
	reg.mu.Lock()
	first, last := reg.registers[0], reg.registers[len(reg.registers)-1]
	reg.mu.Unlock()
	assert.Equal(t, callID(first), callID(last), "one Call-ID for all registrations")
	assert.Less(t, first.CSeq().SeqNo, last.CSeq().SeqNo)
	assert.True(t, first.Via().Params.Has("rport"))
}

func TestRegisterWrongPasswordBacksOff(t *testing.T) {
	_, regURI := startRegistrar(t, "right", 60)
	ua, _ := startUA(t, Config{User: "blackphone", Password: "wrong", Registrar: regURI})
	for {
		select {
		case st := <-ua.RegistrationUpdates():
			if st.Status != RegFailed {
				continue
			}
			assert.Equal(t, 401, st.LastStatus)
			assert.True(t, st.Retry.After(time.Now().Add(time.Second)), "back-off of about 2 s")
			return
		case <-time.After(10 * time.Second):
			t.Fatal("no failure reported")
		}
	}
}

func TestOptionsAnswered(t *testing.T) {
	ua, _ := startUA(t, Config{User: "blackphone"})
	probe, _ := startUA(t, Config{User: "probe"})
	req := probe.outOfDialog(sip.OPTIONS, sip.Uri{Scheme: "sip", User: "blackphone", Host: "127.0.0.1", Port: int(ua.Addr().Port())})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := probe.do(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, 200, res.StatusCode)
	assert.Contains(t, res.GetHeader("Allow").Value(), "INVITE")
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		cfg Config
		err string
	}{
		{Config{}, "user is empty"},
		{Config{User: "a@b"}, "only the user part"},
		{Config{User: "a", Transport: "sctp"}, "transport"},
		{Config{User: "a", Registrar: "sip:"}, "registrar"},
		{Config{User: "a", Bind: "nonsense"}, "bind"},
		{Config{User: "a", Bind: "127.0.0.1:0", ContactHost: "host.example"}, "contact host"},
	}
	for _, tt := range tests {
		t.Run(tt.err, func(t *testing.T) {
			_, err := New(tt.cfg, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
		})
	}
	ua, err := New(Config{User: "a", Bind: "127.0.0.1:0"}, nil)
	require.NoError(t, err)
	_, err = ua.Dial(context.Background(), "123")
	assert.ErrorIs(t, err, ErrNotRunning)
	ua.closeListeners()
	assert.True(t, strings.Contains(fmt.Sprint(Config{Password: "x"}.LogValue()), "password_set"))
	assert.NotContains(t, fmt.Sprint(Config{Password: "hunter2hunter2"}.LogValue()), "hunter2")
}

func TestCallOverTCP(t *testing.T) {
	alice, _ := startUA(t, Config{User: "alice", Transport: TCP})
	bob, _ := startUA(t, Config{User: "bob", Transport: TCP})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := alice.Dial(ctx, uri(bob, "bob")+";transport=tcp")
	require.NoError(t, err)
	in := waitIncoming(t, bob)
	require.NoError(t, in.Answer(ctx))
	waitEvent(t, call, EventAnswered)
	go sendTone(ctx, call, 1004)
	assert.True(t, hearTone(t, in, 1004))
	require.NoError(t, call.Hangup(ctx))
	assert.Equal(t, CauseRemoteHangup, waitEvent(t, in, EventEnded).Cause)
}

// selfSigned makes a TLS configuration for 127.0.0.1 that trusts itself.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kurodenwa test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		RootCAs:      pool,
		MinVersion:   tls.VersionTLS12,
	}
}

func TestCallOverTLS(t *testing.T) {
	conf := selfSigned(t)
	alice, _ := startUA(t, Config{User: "alice", Transport: TLS, TLS: conf})
	bob, _ := startUA(t, Config{User: "bob", Transport: TLS, TLS: conf})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := alice.Dial(ctx, fmt.Sprintf("sips:bob@%s", bob.Addr()))
	require.NoError(t, err)
	in := waitIncoming(t, bob)
	require.NoError(t, in.Answer(ctx))
	waitEvent(t, call, EventAnswered)
	require.NoError(t, in.Hangup(ctx))
	assert.Equal(t, CauseRemoteHangup, waitEvent(t, call, EventEnded).Cause)
}

func TestOptionsKeepAlive(t *testing.T) {
	reg, regURI := startRegistrar(t, "Secret-Pass-1234", 600)
	startUA(t, Config{User: "blackphone", Password: "Secret-Pass-1234", Registrar: regURI, OptionsInterval: 50 * time.Millisecond})
	deadline := time.Now().Add(10 * time.Second)
	for {
		reg.mu.Lock()
		n := reg.options
		reg.mu.Unlock()
		if n >= 3 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d OPTIONS within 10 s", n)
		}
		time.Sleep(10 * time.Millisecond) // polling the fake registrar's count
	}
}

// Stopping the UA hangs up its calls: the far end gets a BYE.
func TestShutdownHangsUp(t *testing.T) {
	alice, _ := startUA(t, Config{User: "alice"})
	bob, err := New(Config{User: "bob", Bind: "127.0.0.1:0"}, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bob.Run(ctx) }()
	<-bob.Ready()
	tctx, tcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer tcancel()
	call, err := bob.Dial(tctx, uri(alice, "alice"))
	require.NoError(t, err)
	in := waitIncoming(t, alice)
	require.NoError(t, in.Answer(tctx))
	waitEvent(t, call, EventAnswered)
	cancel()
	assert.Equal(t, CauseRemoteHangup, waitEvent(t, in, EventEnded).Cause)
	assert.Equal(t, CauseShutdown, waitEvent(t, call, EventEnded).Cause)
	require.NoError(t, <-done)
	_, err = bob.Dial(tctx, uri(alice, "alice"))
	assert.ErrorIs(t, err, ErrNotRunning)
}

// Twilio-style: the registrar is a domain name, reached through an
// outbound proxy (the edge) as a loose Route.
func TestOutboundProxyRoute(t *testing.T) {
	reg, proxyURI := startRegistrar(t, "Secret-Pass-1234", 600)
	ua, _ := startUA(t, Config{User: "blackphone", Password: "Secret-Pass-1234",
		Registrar: "sip:kurodenwa.sip.twilio.invalid", OutboundProxy: proxyURI})
	for st := range ua.RegistrationUpdates() {
		require.NotEqual(t, RegFailed, st.Status, "%v", st.Err)
		if st.Status == RegRegistered {
			break
		}
	}
	reg.mu.Lock()
	req := reg.registers[len(reg.registers)-1]
	reg.mu.Unlock()
	assert.Equal(t, "sip:kurodenwa.sip.twilio.invalid", req.Recipient.String())
	assert.Equal(t, "kurodenwa.sip.twilio.invalid", req.To().Address.Host)
	route := req.GetHeader("Route")
	require.NotNil(t, route)
	assert.Contains(t, route.Value(), strings.TrimPrefix(proxyURI, "sip:"))
	assert.Contains(t, route.Value(), ";lr")
}

// BenchmarkCallSetup is a whole call's signalling between two UAs on
// loopback: INVITE, 180, 200, ACK, BYE, 200.
func BenchmarkCallSetup(b *testing.B) {
	mk := func(user string) *UA {
		ua, err := New(Config{User: user, Bind: "127.0.0.1:0"}, nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		b.Cleanup(cancel)
		go func() { _ = ua.Run(ctx) }()
		<-ua.Ready()
		return ua
	}
	alice, bob := mk("alice"), mk("bob")
	target := uri(bob, "bob")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		call, err := alice.Dial(ctx, target)
		if err != nil {
			b.Fatal(err)
		}
		in := <-bob.Incoming()
		if err := in.Answer(ctx); err != nil {
			b.Fatal(err)
		}
		if err := call.Hangup(ctx); err != nil {
			b.Fatal(err)
		}
		<-in.Done()
		for range call.Events() {
		}
		for range in.Events() {
		}
	}
}

// A Twilio-like proxy challenges INVITE with 407; the UA answers with
// Proxy-Authorization, which the fake checks, and the call comes up.
func TestInviteProxyAuth(t *testing.T) {
	const password = "Secret-Pass-1234"
	sua, err := sipgo.NewUA(sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(slog.New(slog.DiscardHandler))),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(slog.New(slog.DiscardHandler))))
	require.NoError(t, err)
	srv, err := sipgo.NewServer(sua, sipgo.WithServerLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(); sua.Close() })
	chal := &digest.Challenge{Realm: "sip.twilio.com", Nonce: "abc123", Algorithm: "MD5", QOP: []string{"auth"}}
	var mu sync.Mutex
	challenged, authed := 0, 0
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		h := req.GetHeader("Proxy-Authorization")
		ok := false
		if h != nil {
			cred, err := digest.ParseCredentials(h.Value())
			if err == nil {
				want, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: cred.URI, Username: cred.Username, Password: password, Cnonce: cred.Cnonce, Count: cred.Nc})
				ok = err == nil && want.Response == cred.Response && cred.Username == "blackphone"
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if !ok {
			challenged++
			res := sip.NewResponseFromRequest(req, 407, "Proxy Authentication Required", nil)
			res.AppendHeader(sip.NewHeader("Proxy-Authenticate", chal.String()))
			_ = tx.Respond(res)
			return
		}
		authed++
		body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"
		res := sip.NewResponseFromRequest(req, 200, "OK", []byte(body))
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: conn.LocalAddr().(*net.UDPAddr).Port}})
		ct := sip.ContentTypeHeader("application/sdp")
		res.AppendHeader(&ct)
		_ = tx.Respond(res)
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go func() { _ = srv.ServeUDP(conn) }() // handlers first: the map is not locked
	ua, _ := startUA(t, Config{User: "blackphone", Password: password})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, err := ua.Dial(ctx, "sip:+81312345678@"+conn.LocalAddr().String())
	require.NoError(t, err)
	waitEvent(t, call, EventAnswered)
	require.NoError(t, call.Hangup(ctx))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, challenged)
	assert.Equal(t, 1, authed)
}

// Behind NAT the registrar sees another address than the Contact; with
// RewriteContact the UA registers again with what it saw.
func TestRewriteContactFromVia(t *testing.T) {
	reg, regURI := startRegistrar(t, "Secret-Pass-1234", 600)
	// Advertise 127.0.0.2 while sending from 127.0.0.1, as a NAT would.
	ua, _ := startUA(t, Config{User: "blackphone", Password: "Secret-Pass-1234", Registrar: regURI,
		ContactHost: "127.0.0.2", RewriteContact: true})
	for st := range ua.RegistrationUpdates() {
		require.NotEqual(t, RegFailed, st.Status, "%v", st.Err)
		if st.Status == RegRegistered {
			assert.Contains(t, st.Contact, "127.0.0.1:")
			break
		}
	}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	first, last := reg.registers[0], reg.registers[len(reg.registers)-1]
	assert.Equal(t, "127.0.0.2", first.Contact().Address.Host)
	assert.Equal(t, "127.0.0.1", last.Contact().Address.Host)
	assert.Equal(t, int(ua.Addr().Port()), last.Contact().Address.Port)
}
