package sipua

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Errors of the UA's API.
var (
	ErrNotRunning = errors.New("sipua: UA is not running")
	ErrBusy       = errors.New("sipua: a call is already in progress")
	ErrCallEnded  = errors.New("sipua: call has ended")
	ErrWrongState = errors.New("sipua: not possible in the call's state")
)

// UA is a SIP user agent: one registration and up to MaxCalls calls.
type UA struct {
	cfg  settings
	log  *slog.Logger
	sua  *sipgo.UserAgent
	srv  *sipgo.Server
	cli  *sipgo.Client
	auth *authenticator

	udp     *net.UDPConn
	ln      net.Listener
	local   netip.AddrPort // where SIP listens
	ip      netip.Addr     // advertised in Contact, Via and SDP
	network string         // "UDP", "TCP", "TLS"

	incoming chan *Call
	running  chan struct{}
	stopped  chan struct{} // closed when Run has finished
	runOnce  sync.Once

	mu         sync.Mutex
	runCtx     context.Context
	calls      map[string]*Call
	reg        RegState
	regUpdates chan RegState
	contactIP  netip.AddrPort // Contact address; rewritten behind NAT
}

// New makes a UA and binds its SIP port; Run serves it.
func New(cfg Config, log *slog.Logger) (*UA, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	target := ""
	switch {
	case s.proxy != nil:
		target = s.proxy.Host
	case s.registrar != nil:
		target = s.registrar.Host
	}
	ip, err := contactHost(s, target)
	if err != nil {
		return nil, err
	}
	ua := &UA{
		cfg:        s,
		log:        log,
		auth:       &authenticator{user: cfg.authUser(), password: cfg.Password},
		ip:         ip,
		incoming:   make(chan *Call, 4),
		running:    make(chan struct{}),
		stopped:    make(chan struct{}),
		calls:      make(map[string]*Call),
		regUpdates: make(chan RegState, 1),
		network:    strings.ToUpper(string(cfg.transport())),
	}
	if err := ua.bind(); err != nil {
		return nil, err
	}
	ua.contactIP = netip.AddrPortFrom(ip, ua.local.Port())
	if err := ua.makeStack(); err != nil {
		ua.closeListeners()
		return nil, err
	}
	log.Info("sip ua ready", "config", cfg, "listen", ua.local, "contact", ua.contactIP)
	return ua, nil
}

func (ua *UA) bind() error {
	addr := ua.cfg.bind
	switch ua.cfg.transport() {
	case UDP:
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
		if err != nil {
			return fmt.Errorf("sipua: listen udp %s: %w", addr, err)
		}
		ua.udp = c
		ua.local = c.LocalAddr().(*net.UDPAddr).AddrPort()
	case TCP:
		l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(addr))
		if err != nil {
			return fmt.Errorf("sipua: listen tcp %s: %w", addr, err)
		}
		ua.ln = l
		ua.local = l.Addr().(*net.TCPAddr).AddrPort()
	case TLS:
		if ua.cfg.TLS == nil || len(ua.cfg.TLS.Certificates) == 0 {
			// Without a certificate the UA only connects out; requests
			// to it come back over its registered connection.
			ua.local = addr
			return nil
		}
		l, err := tls.Listen("tcp", addr.String(), ua.cfg.TLS)
		if err != nil {
			return fmt.Errorf("sipua: listen tls %s: %w", addr, err)
		}
		ua.ln = l
		ua.local = l.Addr().(*net.TCPAddr).AddrPort()
	}
	ua.local = netip.AddrPortFrom(ua.local.Addr().Unmap(), ua.local.Port())
	return nil
}

func (ua *UA) makeStack() error {
	sl := ua.log.With("component", "sipgo")
	opts := []sipgo.UserAgentOption{
		sipgo.WithUserAgent(ua.userAgent()),
		sipgo.WithUserAgentHostname(ua.cfg.domain),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sl)),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(sl),
			sip.WithTransactionLayerUnhandledResponseHandler(func(r *sip.Response) {
				ua.log.Debug("sip response outside any transaction", "status", r.StatusCode, "call_id", callID(r))
			}),
		),
	}
	if ua.cfg.TLS != nil {
		opts = append(opts, sipgo.WithUserAgenTLSConfig(ua.cfg.TLS))
	}
	sua, err := sipgo.NewUA(opts...)
	if err != nil {
		return fmt.Errorf("sipua: %w", err)
	}
	srv, err := sipgo.NewServer(sua, sipgo.WithServerLogger(sl))
	if err != nil {
		sua.Close()
		return fmt.Errorf("sipua: %w", err)
	}
	cli, err := sipgo.NewClient(sua, sipgo.WithClientLogger(sl), sipgo.WithClientHostname(ua.ip.String()), sipgo.WithClientNAT())
	if err != nil {
		sua.Close()
		return fmt.Errorf("sipua: %w", err)
	}
	ua.sua, ua.srv, ua.cli = sua, srv, cli
	srv.OnInvite(ua.onInvite)
	srv.OnAck(ua.onAck)
	srv.OnBye(ua.onBye)
	srv.OnCancel(ua.onStrayCancel)
	srv.OnOptions(ua.onOptions)
	srv.OnInfo(ua.onInfo)
	srv.OnNotify(ua.onNotify)
	return nil
}

func (ua *UA) userAgent() string {
	if ua.cfg.UserAgent != "" {
		return ua.cfg.UserAgent
	}
	return DefaultUserAgent
}

// Ready is closed once Run serves: Dial works from then on.
func (ua *UA) Ready() <-chan struct{} { return ua.running }

// Addr is where the UA listens for SIP.
func (ua *UA) Addr() netip.AddrPort { return ua.local }

// Incoming delivers calls to answer or reject. A call not taken within
// its ringing is the caller's to cancel; when nobody reads and four wait,
// further calls get 486 Busy Here.
func (ua *UA) Incoming() <-chan *Call { return ua.incoming }

// Registration returns the registration's state now.
func (ua *UA) Registration() RegState {
	ua.mu.Lock()
	defer ua.mu.Unlock()
	return ua.reg
}

// RegistrationUpdates delivers the registration state each time it
// changes; a slow reader sees only the latest.
func (ua *UA) RegistrationUpdates() <-chan RegState { return ua.regUpdates }

func (ua *UA) setReg(st RegState) {
	ua.mu.Lock()
	ua.reg = st
	ua.mu.Unlock()
	select {
	case <-ua.regUpdates:
	default:
	}
	ua.regUpdates <- st
}

// Run serves SIP, registers and refreshes, until ctx ends; then it hangs
// up every call, unregisters and closes the port.
func (ua *UA) Run(ctx context.Context) error {
	first := false
	ua.runOnce.Do(func() { first = true })
	if !first {
		return fmt.Errorf("sipua: Run called twice")
	}
	defer close(ua.stopped)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ua.mu.Lock()
	ua.runCtx = ctx
	ua.mu.Unlock()

	serveErr := make(chan error, 1)
	switch {
	case ua.udp != nil:
		go func() { serveErr <- ua.srv.ServeUDP(ua.udp) }()
	case ua.ln != nil && ua.cfg.transport() == TLS:
		go func() { serveErr <- ua.srv.ServeTLS(ua.ln) }()
	case ua.ln != nil:
		go func() { serveErr <- ua.srv.ServeTCP(ua.ln) }()
	}
	if err := ua.waitServing(ctx); err != nil {
		ua.closeListeners()
		ua.sua.Close()
		return err
	}
	close(ua.running)

	var wg sync.WaitGroup
	if ua.cfg.registrar != nil {
		wg.Add(1)
		go func() { defer wg.Done(); ua.registerLoop(ctx) }()
	}
	if ua.cfg.OptionsInterval > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); ua.keepAlive(ctx) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		if err != nil {
			err = fmt.Errorf("sipua: serve %s: %w", ua.network, err)
		}
		cancel()
	}
	ua.shutdown()
	wg.Wait()
	ua.closeListeners()
	ua.sua.Close()
	return err
}

// waitServing waits until the transport layer has taken the UDP socket:
// requests sent before would open a second socket on the same port.
func (ua *UA) waitServing(ctx context.Context) error {
	if ua.udp == nil {
		return nil
	}
	addr := ua.udp.LocalAddr().String()
	for range 1000 {
		if c, err := ua.sua.TransportLayer().GetConnection("udp", addr); err == nil && c != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return fmt.Errorf("sipua: udp transport did not start on %s", addr)
}

// shutdown ends every call; the registration loop unregisters itself.
func (ua *UA) shutdown() {
	ua.mu.Lock()
	calls := make([]*Call, 0, len(ua.calls))
	for _, c := range ua.calls {
		calls = append(calls, c)
	}
	ua.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Add(1)
		go func() { defer wg.Done(); c.shutdown(ctx) }()
	}
	wg.Wait()
}

func (ua *UA) closeListeners() {
	if ua.udp != nil {
		ua.udp.Close()
	}
	if ua.ln != nil {
		ua.ln.Close()
	}
}

// context returns Run's context, or an error before Run.
func (ua *UA) context() (context.Context, error) {
	select {
	case <-ua.running:
	default:
		return nil, ErrNotRunning
	}
	select {
	case <-ua.stopped:
		return nil, ErrNotRunning
	default:
	}
	ua.mu.Lock()
	defer ua.mu.Unlock()
	if ua.runCtx.Err() != nil {
		return nil, ErrNotRunning
	}
	return ua.runCtx, nil
}

// aor is the address of record: sip:user@domain.
func (ua *UA) aor() sip.Uri {
	u := sip.Uri{Scheme: "sip", User: ua.cfg.User, Host: ua.cfg.domain}
	if ua.cfg.Domain == "" && ua.cfg.registrar != nil {
		u.Port = ua.cfg.registrar.Port
	}
	return u
}

// contact is this UA's Contact header.
func (ua *UA) contact() *sip.ContactHeader {
	ua.mu.Lock()
	ap := ua.contactIP
	ua.mu.Unlock()
	u := sip.Uri{Scheme: "sip", User: ua.cfg.User, Host: ap.Addr().String(), Port: int(ap.Port())}
	if ua.cfg.transport() == TLS {
		u.Scheme = "sips"
	}
	if ua.cfg.transport() != UDP {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", strings.ToLower(ua.network))
	}
	return &sip.ContactHeader{Address: u}
}

// outOfDialog builds a request outside any dialog (OPTIONS) to u.
func (ua *UA) outOfDialog(method sip.RequestMethod, u sip.Uri) *sip.Request {
	req := sip.NewRequest(method, u)
	from := &sip.FromHeader{DisplayName: ua.cfg.DisplayName, Address: ua.aor(), Params: sip.NewParams()}
	from.Params.Add("tag", newTag())
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: u, Params: sip.NewParams()})
	cid := sip.CallIDHeader(randomHex(16))
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: method})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(ua.contact())
	ua.prepare(req, false)
	return req
}

// prepare adds what every request from this UA carries and sends it from
// the listening socket, so replies and NAT bindings use one address.
func (ua *UA) prepare(req *sip.Request, outOfDialog bool) {
	if outOfDialog && ua.cfg.proxy != nil && req.GetHeader("Route") == nil {
		req.PrependHeader(&sip.RouteHeader{Address: *ua.cfg.proxy.Clone()})
	}
	req.AppendHeader(sip.NewHeader("User-Agent", ua.userAgent()))
	req.SetTransport(ua.network)
	if ua.udp != nil {
		req.Laddr = sip.Addr{IP: ua.local.Addr().AsSlice(), Port: int(ua.local.Port())}
	}
	if req.Body() == nil {
		req.SetBody(nil)
	}
}

// send starts a client transaction for a request built here.
func (ua *UA) send(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	tx, err := ua.cli.TransactionRequest(ctx, req, sipgo.ClientRequestAddVia)
	if err != nil {
		return nil, fmt.Errorf("sipua: send %s: %w", req.Method, err)
	}
	return tx, nil
}

// do sends req and waits for its final response, answering one digest
// challenge.
func (ua *UA) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	for attempt := 0; ; attempt++ {
		tx, err := ua.send(ctx, req)
		if err != nil {
			return nil, err
		}
		res, err := finalResponse(ctx, tx)
		tx.Terminate()
		if err != nil {
			return nil, fmt.Errorf("sipua: %s: %w", req.Method, err)
		}
		if (res.StatusCode == 401 || res.StatusCode == 407) && attempt == 0 && ua.cfg.Password != "" {
			if err := ua.auth.answer(req, res); err != nil {
				return res, err
			}
			req.CSeq().SeqNo++
			req.RemoveHeader("Via")
			continue
		}
		return res, nil
	}
}

func finalResponse(ctx context.Context, tx sip.ClientTransaction) (*sip.Response, error) {
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, err
			}
			return nil, sip.ErrTransactionTerminated
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func callID(m sip.Message) string {
	if h := m.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// keepAlive sends OPTIONS to the registrar or proxy now and then.
func (ua *UA) keepAlive(ctx context.Context) {
	t := time.NewTicker(ua.cfg.OptionsInterval)
	defer t.Stop()
	target := ua.cfg.registrar
	if ua.cfg.proxy != nil {
		target = ua.cfg.proxy
	}
	if target == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		u := *target.Clone()
		u.UriParams.Remove("lr")
		req := ua.outOfDialog(sip.OPTIONS, u)
		octx, cancel := context.WithTimeout(ctx, 10*time.Second)
		res, err := ua.do(octx, req)
		cancel()
		switch {
		case err != nil:
			ua.log.Warn("options keep-alive failed", "target", u.String(), "err", err)
		default:
			ua.log.Debug("options keep-alive", "status", res.StatusCode)
		}
	}
}

// Handlers of requests from the network.

func (ua *UA) respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		ua.log.Debug("respond", "status", code, "method", req.Method, "err", err)
	}
}

func (ua *UA) findCall(req *sip.Request) *Call {
	ua.mu.Lock()
	defer ua.mu.Unlock()
	c := ua.calls[callID(req)]
	if c == nil {
		return nil
	}
	// The dialog must match too: our tag in To, theirs in From.
	to, from := req.To(), req.From()
	if to == nil || from == nil {
		return nil
	}
	if tag, _ := to.Params.Get("tag"); tag != c.localTag {
		return nil
	}
	return c
}

func (ua *UA) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	ua.respond(req, tx, 200, "OK",
		sip.NewHeader("Allow", allowed),
		sip.NewHeader("Accept", "application/sdp, application/dtmf-relay"),
		sip.NewHeader("User-Agent", ua.userAgent()))
}

func (ua *UA) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	// Unsolicited NOTIFY (message waiting, keep-alive check-sync) is
	// acknowledged and otherwise ignored: a black phone has no lamp.
	ua.respond(req, tx, 200, "OK")
}

func (ua *UA) onStrayCancel(req *sip.Request, tx sip.ServerTransaction) {
	// The transaction layer answers CANCELs that match an INVITE; this
	// one matched nothing.
	ua.respond(req, tx, 481, "Call/Transaction Does Not Exist")
}

func (ua *UA) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if c := ua.findCall(req); c != nil {
		c.post(inAck{req: req})
	}
}

func (ua *UA) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := ua.findCall(req)
	if c == nil || !c.postAndWait(func(done chan struct{}) callInput { return inBye{req: req, tx: tx, done: done} }) {
		ua.respond(req, tx, 481, "Call/Transaction Does Not Exist")
	}
}

func (ua *UA) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	c := ua.findCall(req)
	if c == nil {
		ua.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	if d, ok := parseDTMFRelay(req); ok {
		c.post(inDigit{digit: d})
	}
	ua.respond(req, tx, 200, "OK")
}

func (ua *UA) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		c := ua.findCall(req)
		if c == nil || !c.postAndWait(func(done chan struct{}) callInput { return inReinvite{req: req, tx: tx, done: done} }) {
			ua.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		}
		return
	}
	if _, err := ua.context(); err != nil {
		ua.respond(req, tx, 503, "Service Unavailable")
		return
	}
	if err := checkInvite(req); err != nil {
		ua.log.Info("bad INVITE", "err", err, "call_id", callID(req))
		ua.respond(req, tx, 400, "Bad Request")
		return
	}
	ua.mu.Lock()
	_, dup := ua.calls[callID(req)]
	busy := len(ua.calls) >= ua.cfg.maxCalls()
	ua.mu.Unlock()
	switch {
	case dup:
		// A new INVITE with a known Call-ID and no To tag: a loop or a
		// fork of a call we already have.
		ua.respond(req, tx, 482, "Loop Detected")
		return
	case busy:
		ua.log.Info("incoming call while busy", "from", req.From().Address.String())
		ua.respond(req, tx, 486, "Busy Here")
		return
	}
	c, code, err := ua.newIncoming(req, tx)
	if err != nil {
		ua.log.Info("incoming call refused", "status", code, "err", err)
		ua.respond(req, tx, code, statusText(code))
		return
	}
	select {
	case ua.incoming <- c:
	default:
		c.post(inReject{status: 486, reason: "Busy Here"})
	}
	// The server transaction must live until the final response: wait.
	select {
	case <-c.finalSent:
	case <-tx.Done():
	}
}

// checkInvite rejects INVITEs the dialog cannot be built from.
func checkInvite(req *sip.Request) error {
	switch {
	case req.From() == nil || !req.From().Params.Has("tag"):
		return fmt.Errorf("no From tag")
	case req.To() == nil:
		return fmt.Errorf("no To")
	case req.CallID() == nil:
		return fmt.Errorf("no Call-ID")
	case req.CSeq() == nil:
		return fmt.Errorf("no CSeq")
	case req.Contact() == nil || req.Contact().Address.Host == "":
		return fmt.Errorf("no Contact")
	}
	return nil
}

// parseDTMFRelay reads an application/dtmf-relay INFO body ("Signal=5").
func parseDTMFRelay(req *sip.Request) (byte, bool) {
	ct := req.ContentType()
	if ct == nil || !strings.EqualFold(strings.TrimSpace(strings.Split(ct.Value(), ";")[0]), "application/dtmf-relay") {
		return 0, false
	}
	for line := range strings.Lines(string(req.Body())) {
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "signal") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) != 1 {
			return 0, false
		}
		d := v[0]
		if d >= 'a' && d <= 'd' {
			d -= 'a' - 'A'
		}
		if (d >= '0' && d <= '9') || d == '*' || d == '#' || (d >= 'A' && d <= 'D') {
			return d, true
		}
		return 0, false
	}
	return 0, false
}
