package sipua

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/kurodenwa/kurodenwa/pi-gateway/media"
)

// Audio is a call's speech path: Read returns the next 20 ms of received
// audio (160 samples at 8 kHz, after the jitter buffer; silence until
// media flows) once every 20 ms, and Write queues 20 ms to send.
type Audio interface {
	Read(ctx context.Context, frame []int16) error
	Write(ctx context.Context, frame []int16) error
}

// Call is one call, placed by Dial or delivered by Incoming. Its methods
// are safe for concurrent use; its state changes one input at a time in
// its own goroutine (run), which owns the dialog.
type Call struct {
	ua       *UA
	id       string // Call-ID
	dir      CallDirection
	localTag string
	remote   Party
	log      *slog.Logger
	sess     *media.Session
	events   *eventQueue
	in       chan callInput
	done     chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
	// finalSent is closed once an incoming INVITE has its final
	// response, releasing the server transaction's handler.
	finalSent     chan struct{}
	finalSentOnce sync.Once

	mu    sync.Mutex
	state CallState
	ended CallEvent

	// Owned by run.
	dlg          dialog
	local        media.Local
	sdpID        uint64
	sdpVersion   uint64
	invite       *sip.Request // ours (outgoing) or theirs with our To tag (incoming)
	cliTx        sip.ClientTransaction
	srvTx        sip.ServerTransaction
	offer        media.Description // incoming: the INVITE's offer
	hasOffer     bool
	authTries    int
	wantHangup   bool // Hangup asked before the far end answered
	cancelSent   bool
	ringing      bool
	earlyMedia   bool
	mediaUp      bool
	remoteHeld   bool
	answerWait   []chan error // Answer callers waiting for the ACK
	hangupWait   []chan error // Hangup callers waiting for the end
	ok200        *sip.Response
	okTx         sip.ServerTransaction
	retx         *time.Timer
	retxEvery    time.Duration
	retxDeadline time.Time
	pendingAck   *inReinvite // a re-INVITE answered, its ACK awaited
	byeCause     EndCause    // why we sent BYE
	byeReason    string
}

// callInput is anything the call's state machine reacts to.
type callInput interface{ isInput() }

type (
	inResponse struct {
		tx  sip.ClientTransaction
		res *sip.Response
	}
	inTxDone struct {
		tx  sip.ClientTransaction
		err error
	}
	inAnswer struct{ reply chan error }
	inReject struct {
		status int
		reason string
		reply  chan error
	}
	inHangup struct {
		cause EndCause
		reply chan error
	}
	inBye struct {
		req  *sip.Request
		tx   sip.ServerTransaction
		done chan struct{}
	}
	inReinvite struct {
		req  *sip.Request
		tx   sip.ServerTransaction
		done chan struct{}
	}
	inAck     struct{ req *sip.Request }
	inCancel  struct{}
	inDigit   struct{ digit byte }
	inByeDone struct{ err error }
	inRetx    struct{}
)

func (inResponse) isInput() {}
func (inTxDone) isInput()   {}
func (inAnswer) isInput()   {}
func (inReject) isInput()   {}
func (inHangup) isInput()   {}
func (inBye) isInput()      {}
func (inReinvite) isInput() {}
func (inAck) isInput()      {}
func (inCancel) isInput()   {}
func (inDigit) isInput()    {}
func (inByeDone) isInput()  {}
func (inRetx) isInput()     {}

// ID is the call's Call-ID.
func (c *Call) ID() string { return c.id }

// Direction says who placed the call.
func (c *Call) Direction() CallDirection { return c.dir }

// Remote is the other party: the caller of an incoming call, the number
// dialled for an outgoing one.
func (c *Call) Remote() Party { return c.remote }

// State is the call's state now.
func (c *Call) State() CallState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Events delivers the call's events in order; the channel closes after
// EventEnded. Read it until it closes.
func (c *Call) Events() <-chan CallEvent { return c.events.out }

// Done is closed when the call has ended.
func (c *Call) Done() <-chan struct{} { return c.done }

// Ended is the call's EventEnded once Done is closed.
func (c *Call) Ended() CallEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

// Audio is the call's speech path.
func (c *Call) Audio() Audio { return c.sess }

// Stats are the call's media counters.
func (c *Call) Stats() media.Stats { return c.sess.Stats() }

// Answer answers an incoming call (200 OK with the SDP answer) and
// returns once the caller's ACK confirms it.
func (c *Call) Answer(ctx context.Context) error {
	return c.ask(ctx, func(reply chan error) callInput { return inAnswer{reply: reply} })
}

// Reject refuses an incoming call with status (486 Busy Here, 603
// Decline, 480 …; 0 means 486).
func (c *Call) Reject(ctx context.Context, status int) error {
	if status == 0 {
		status = 486
	}
	if status < 300 || status > 699 {
		return fmt.Errorf("sipua: reject status %d is not 3xx–6xx", status)
	}
	return c.ask(ctx, func(reply chan error) callInput {
		return inReject{status: status, reason: statusText(status), reply: reply}
	})
}

// Hangup ends the call whatever its state: CANCEL before an answer, BYE
// after, 480 to an incoming call not answered. It returns when the call
// has ended or ctx ends.
func (c *Call) Hangup(ctx context.Context) error {
	err := c.ask(ctx, func(reply chan error) callInput { return inHangup{cause: CauseLocalHangup, reply: reply} })
	if errors.Is(err, ErrCallEnded) {
		return nil
	}
	return err
}

// SendDigit sends a DTMF digit (0-9 * # A-D) as RFC 4733 events; 'A' is
// the gateway's hook flash. It returns when the digit has been sent.
func (c *Call) SendDigit(ctx context.Context, d byte) error {
	switch c.State() {
	case StateConfirmed:
	case StateEnded:
		return ErrCallEnded
	default:
		return fmt.Errorf("%w: digits are sent only while talking", ErrWrongState)
	}
	if err := c.sess.SendDigit(ctx, d); err != nil {
		return fmt.Errorf("sipua: send digit %q: %w", d, err)
	}
	return nil
}

// shutdown hangs up for a stopping UA, waiting at most until ctx ends;
// then the call is dropped without waiting for the far end.
func (c *Call) shutdown(ctx context.Context) {
	_ = c.ask(ctx, func(reply chan error) callInput { return inHangup{cause: CauseShutdown, reply: reply} })
	c.cancel()
	<-c.done
}

// ask posts an API request and waits for its reply.
func (c *Call) ask(ctx context.Context, mk func(chan error) callInput) error {
	reply := make(chan error, 1)
	select {
	case c.in <- mk(reply):
	case <-c.done:
		return ErrCallEnded
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-c.done:
		select {
		case err := <-reply:
			return err
		default:
		}
		return ErrCallEnded
	case <-ctx.Done():
		return ctx.Err()
	}
}

// post hands an input to the state machine unless the call is over.
func (c *Call) post(in callInput) bool {
	select {
	case c.in <- in:
		return true
	case <-c.done:
		return false
	}
}

// postAndWait posts a request input and waits until the state machine
// has answered it. It reports false when the call ended first.
func (c *Call) postAndWait(mk func(done chan struct{}) callInput) bool {
	done := make(chan struct{})
	if !c.post(mk(done)) {
		return false
	}
	select {
	case <-done:
		return true
	case <-c.done:
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
}

// newCall makes the parts every call has: media session, events, loop.
// Its context is its own: a stopping UA hangs calls up before they go.
func (ua *UA) newCall(id string, dir CallDirection, localTag string) (*Call, error) {
	mcfg := ua.cfg.Media
	mcfg.LocalIP = ua.ip
	c := &Call{
		ua:         ua,
		id:         id,
		dir:        dir,
		localTag:   localTag,
		log:        ua.log.With("call_id", id, "direction", dir.String()),
		events:     newEventQueue(eventsKeptFor),
		in:         make(chan callInput, 16),
		done:       make(chan struct{}),
		finalSent:  make(chan struct{}),
		sdpID:      rand.Uint64() >> 1,
		sdpVersion: 1,
	}
	mcfg.OnDigit = func(d byte) {
		select {
		case c.in <- inDigit{digit: d}:
		case <-c.done:
		default:
			c.log.Warn("digit dropped: call busy", "digit", string(d))
		}
	}
	sess, err := media.NewSession(mcfg, c.log)
	if err != nil {
		return nil, fmt.Errorf("sipua: call media: %w", err)
	}
	c.sess = sess
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.local = media.Local{Addr: sess.LocalAddr(), Codecs: ua.cfg.Codecs, Direction: media.SendRecv}
	// The media clock runs from the start so Read paces the caller from
	// the first frame; nothing is sent until parameters are negotiated.
	sess.Start(c.ctx)
	return c, nil
}

// register adds the call to the UA's table, unless the UA is full.
func (ua *UA) addCall(c *Call) error {
	ua.mu.Lock()
	defer ua.mu.Unlock()
	if len(ua.calls) >= ua.cfg.maxCalls() {
		return ErrBusy
	}
	ua.calls[c.id] = c
	return nil
}

func (ua *UA) removeCall(c *Call) {
	ua.mu.Lock()
	if ua.calls[c.id] == c {
		delete(ua.calls, c.id)
	}
	ua.mu.Unlock()
}

// Dial places a call to number: digits (and * #), sent to the registrar's
// (or Domain's) host, or a full "sip:" URI. It returns once the INVITE is
// on its way; progress comes as Events.
func (ua *UA) Dial(ctx context.Context, number string) (*Call, error) {
	if _, err := ua.context(); err != nil {
		return nil, err
	}
	target, err := ua.dialTarget(number)
	if err != nil {
		return nil, err
	}
	c, err := ua.newCall(randomHex(16), Outgoing, newTag())
	if err != nil {
		return nil, err
	}
	c.remote = party("", target)
	if err := ua.addCall(c); err != nil {
		c.sess.Close()
		c.cancel()
		return nil, err
	}
	c.dlg = dialog{
		callID:       c.id,
		localTag:     c.localTag,
		local:        ua.aor(),
		localName:    ua.cfg.DisplayName,
		remote:       target,
		remoteTarget: target,
		localSeq:     uint32(rand.IntN(1 << 16)),
	}
	c.state = StateCalling
	if err := c.sendInvite(ctx); err != nil {
		ua.removeCall(c)
		c.sess.Close()
		c.cancel()
		return nil, err
	}
	c.log.Info("dialling", "to", target.String())
	go c.run()
	return c, nil
}

func (ua *UA) dialTarget(number string) (sip.Uri, error) {
	number = strings.TrimSpace(number)
	if number == "" {
		return sip.Uri{}, fmt.Errorf("sipua: nothing to dial")
	}
	if strings.HasPrefix(number, "sip:") || strings.HasPrefix(number, "sips:") {
		u, err := parseSIPURI(number)
		if err != nil {
			return sip.Uri{}, fmt.Errorf("sipua: dial: %w", err)
		}
		return u, nil
	}
	if strings.ContainsAny(number, "@:;<> \t") {
		return sip.Uri{}, fmt.Errorf("sipua: dial %q: not a number", number)
	}
	u := ua.aor()
	u.User = escapeUser(number)
	return u, nil
}

// sendInvite sends the (first or authenticated) INVITE.
func (c *Call) sendInvite(ctx context.Context) error {
	if c.invite == nil {
		req := sip.NewRequest(sip.INVITE, c.dlg.remoteTarget)
		c.dlg.localSeq++
		c.dlg.fill(req, c.dlg.localSeq, sip.INVITE)
		req.AppendHeader(c.ua.contact())
		req.AppendHeader(sip.NewHeader("Allow", allowed))
		ct := sip.ContentTypeHeader("application/sdp")
		req.AppendHeader(&ct)
		body, err := c.local.Offer(c.sdpID, c.sdpVersion).Marshal()
		if err != nil {
			return fmt.Errorf("sipua: offer: %w", err)
		}
		req.SetBody(body)
		c.ua.prepare(req, true)
		c.invite = req
	}
	tx, err := c.ua.send(ctx, c.invite)
	if err != nil {
		return err
	}
	c.cliTx = tx
	go c.watch(tx)
	return nil
}

// watch forwards a client transaction's responses to the state machine.
func (c *Call) watch(tx sip.ClientTransaction) {
	for {
		select {
		case res := <-tx.Responses():
			if !c.post(inResponse{tx: tx, res: res}) {
				return
			}
		case <-tx.Done():
			c.post(inTxDone{tx: tx, err: tx.Err()})
			return
		case <-c.done:
			return
		}
	}
}

// newIncoming builds the call for a new INVITE and sends 180 Ringing. It
// returns the status to refuse with when it cannot.
func (ua *UA) newIncoming(req *sip.Request, tx sip.ServerTransaction) (*Call, int, error) {
	var offer media.Description
	hasOffer := len(req.Body()) > 0
	if hasOffer {
		if ct := req.ContentType(); ct != nil && !strings.HasPrefix(strings.ToLower(ct.Value()), "application/sdp") {
			return nil, 415, fmt.Errorf("body is %s, not SDP", ct.Value())
		}
		var err error
		if offer, err = media.ParseSDP(req.Body()); err != nil {
			return nil, 488, err
		}
	}
	c, err := ua.newCall(callID(req), Incoming, newTag())
	if err != nil {
		return nil, 500, err
	}
	if hasOffer {
		if _, _, err := c.local.Answer(offer, c.sdpID, c.sdpVersion); err != nil {
			c.sess.Close()
			c.cancel()
			return nil, 488, err
		}
	}
	from, to := req.From(), req.To()
	c.remote = party(from.DisplayName, from.Address)
	c.invite = req.Clone()
	c.invite.To().Params.Add("tag", c.localTag)
	c.srvTx = tx
	c.offer, c.hasOffer = offer, hasOffer
	fromTag, _ := from.Params.Get("tag")
	c.dlg = dialog{
		callID:       c.id,
		localTag:     c.localTag,
		remoteTag:    fromTag,
		local:        to.Address,
		remote:       from.Address,
		remoteName:   from.DisplayName,
		remoteSeq:    req.CSeq().SeqNo,
		localSeq:     uint32(rand.IntN(1 << 16)),
		remoteTarget: *req.Contact().Address.Clone(),
	}
	for _, rr := range req.GetHeaders("Record-Route") {
		c.dlg.routeSet = append(c.dlg.routeSet, rr.Value())
	}
	if err := ua.addCall(c); err != nil {
		c.sess.Close()
		c.cancel()
		return nil, 486, err
	}
	c.state = StateRinging
	if !tx.OnCancel(func(*sip.Request) {
		// Called inside the transaction's lock: hand over, never block.
		go c.post(inCancel{})
	}) {
		ua.removeCall(c)
		c.sess.Close()
		c.cancel()
		return nil, 487, fmt.Errorf("cancelled already")
	}
	if err := c.respondInvite(180, "Ringing", nil); err != nil {
		ua.removeCall(c)
		c.sess.Close()
		c.cancel()
		return nil, 500, err
	}
	c.log.Info("incoming call", "from", c.remote.String())
	go c.run()
	return c, 0, nil
}

// respondInvite answers the incoming INVITE's server transaction.
func (c *Call) respondInvite(code int, reason string, body []byte) error {
	res := sip.NewResponseFromRequest(c.invite, code, reason, body)
	if code >= 180 && code < 300 {
		res.AppendHeader(c.ua.contact())
		res.AppendHeader(sip.NewHeader("Allow", allowed))
	}
	if body != nil {
		ct := sip.ContentTypeHeader("application/sdp")
		res.AppendHeader(&ct)
	}
	res.AppendHeader(sip.NewHeader("User-Agent", c.ua.userAgent()))
	if code >= 200 && code < 300 {
		c.ok200, c.okTx = res, c.srvTx
	}
	if err := c.srvTx.Respond(res); err != nil {
		return fmt.Errorf("sipua: respond %d: %w", code, err)
	}
	if code >= 200 {
		c.finalSentOnce.Do(func() { close(c.finalSent) })
	}
	return nil
}

// run is the call's state machine: one input at a time until Ended.
func (c *Call) run() {
	defer c.finish()
	for c.State() != StateEnded {
		var retx <-chan time.Time
		if c.retx != nil {
			retx = c.retx.C
		}
		select {
		case in := <-c.in:
			c.handle(in)
		case <-retx:
			c.handle(inRetx{})
		case <-c.ctx.Done():
			// The UA is stopping without a Hangup having reached us.
			c.end(CauseShutdown, 0, "ua stopped")
		}
	}
}

func (c *Call) handle(in callInput) {
	switch in := in.(type) {
	case inResponse:
		c.onResponse(in.tx, in.res)
	case inTxDone:
		c.onTxDone(in.tx, in.err)
	case inAnswer:
		c.onAnswer(in.reply)
	case inReject:
		c.onReject(in.status, in.reason, in.reply)
	case inHangup:
		c.onHangup(in.cause, in.reply)
	case inBye:
		c.onBye(in)
	case inReinvite:
		c.onReinvite(in)
	case inAck:
		c.onAck(in.req)
	case inCancel:
		c.onCancel()
	case inDigit:
		c.emit(CallEvent{Kind: EventDTMF, Digit: in.digit})
	case inByeDone:
		if in.err != nil {
			c.log.Info("bye", "err", in.err)
		}
		c.end(c.byeCause, 0, c.byeReason)
	case inRetx:
		c.onRetransmit()
	}
}

// setState moves the state machine, refusing illegal moves.
func (c *Call) setState(to CallState) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == to {
		return true
	}
	if !canMove(c.state, to) {
		c.log.Warn("illegal call state change ignored", "from", c.state, "to", to)
		return false
	}
	c.log.Debug("call state", "from", c.state, "to", to)
	c.state = to
	return true
}

func (c *Call) emit(e CallEvent) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	c.log.Debug("call event", "event", e.String())
	c.events.push(e)
}

// end finishes the call: state Ended, EventEnded, waiters released.
func (c *Call) end(cause EndCause, status int, reason string) {
	if c.State() == StateEnded {
		return
	}
	c.mu.Lock()
	c.state = StateEnded
	c.ended = CallEvent{Kind: EventEnded, At: time.Now(), Cause: cause, Status: status, Reason: reason}
	e := c.ended
	c.mu.Unlock()
	c.log.Info("call ended", "cause", cause, "status", status, "reason", reason)
	c.emit(e)
}

// finish runs once the state machine stops.
func (c *Call) finish() {
	c.stopRetransmit()
	c.finalSentOnce.Do(func() { close(c.finalSent) })
	c.ua.removeCall(c)
	close(c.done)
	c.cancel()
	c.sess.Close()
	for _, w := range c.answerWait {
		w <- ErrCallEnded
	}
	for _, w := range c.hangupWait {
		w <- nil
	}
}

// reply answers an API caller, if there is one waiting.
func reply(ch chan error, err error) {
	if ch != nil {
		ch <- err
	}
}

// Outgoing call: responses to our INVITE.

func (c *Call) onResponse(tx sip.ClientTransaction, res *sip.Response) {
	if tx != c.cliTx {
		return // a transaction replaced after a challenge
	}
	code := res.StatusCode
	switch {
	case code == 100:
		if c.State() == StateCalling {
			c.setState(StateProceeding)
			c.emit(CallEvent{Kind: EventTrying, Status: code})
		}
	case code < 200:
		c.onProvisional(res)
	case code < 300:
		c.on2xx(res)
	default:
		c.onFailure(res)
	}
}

func (c *Call) onProvisional(res *sip.Response) {
	st := c.State()
	if st == StateCalling || st == StateProceeding {
		c.setState(StateEarly)
	}
	if c.wantHangup && !c.cancelSent {
		c.sendCancel()
		return
	}
	if st == StateTerminating {
		return
	}
	if len(res.Body()) > 0 && !c.earlyMedia {
		if p, err := c.acceptAnswer(res.Body()); err != nil {
			c.log.Info("early media SDP unusable", "err", err)
		} else {
			// Early media: listen only, until the answer.
			p.Direction = p.Direction.Intersect(media.RecvOnly)
			c.sess.Configure(p)
			c.earlyMedia = true
			c.emit(CallEvent{Kind: EventEarlyMedia, Status: res.StatusCode, Reason: res.Reason})
			return
		}
	}
	if !c.ringing && !c.earlyMedia {
		c.ringing = true
		c.emit(CallEvent{Kind: EventRinging, Status: res.StatusCode, Reason: res.Reason})
	}
}

func (c *Call) acceptAnswer(body []byte) (media.Params, error) {
	d, err := media.ParseSDP(body)
	if err != nil {
		return media.Params{}, err
	}
	return c.local.Accept(d)
}

func (c *Call) on2xx(res *sip.Response) {
	if c.mediaUp {
		return // a retransmission that beat the hook
	}
	c.dlg.learnFromResponse(res)
	if err := c.sendAck(res); err != nil {
		c.log.Warn("ack", "err", err)
	}
	c.setState(StateConfirmed)
	var p media.Params
	var err error
	switch {
	case len(res.Body()) > 0:
		p, err = c.acceptAnswer(res.Body())
	case c.earlyMedia:
		p = c.sess.Params()
		p.Direction = c.local.Direction
	default:
		err = fmt.Errorf("2xx without an SDP answer")
	}
	if err != nil {
		c.log.Warn("answer unusable: hanging up", "err", err)
		c.sendBye(CauseFailed, err.Error())
		return
	}
	c.sess.Configure(p)
	c.mediaUp = true
	if c.wantHangup {
		// Hangup crossed the answer: the call is up; end it at once.
		c.sendBye(c.byeCause, "")
		return
	}
	c.emit(CallEvent{Kind: EventAnswered, Status: res.StatusCode})
}

// sendAck ACKs a 2xx and keeps ACKing its retransmissions.
func (c *Call) sendAck(res *sip.Response) error {
	ack := c.dlg.ack(c.invite.CSeq().SeqNo)
	c.ua.prepare(ack, false)
	if err := c.ua.cli.WriteRequest(ack, sipgo.ClientRequestAddVia); err != nil {
		return fmt.Errorf("sipua: ack: %w", err)
	}
	tmpl := ack.Clone()
	cli := c.ua.cli
	c.cliTx.OnRetransmission(func(r *sip.Response) {
		if r.IsSuccess() {
			_ = cli.WriteRequest(tmpl.Clone(), keepAsBuilt)
		}
	})
	return nil
}

func (c *Call) onFailure(res *sip.Response) {
	code := res.StatusCode
	if (code == 401 || code == 407) && c.authTries < 2 && !c.wantHangup && c.ua.cfg.Password != "" {
		c.authTries++
		if err := c.ua.auth.answer(c.invite, res); err != nil {
			c.end(CauseFailed, code, err.Error())
			return
		}
		c.dlg.localSeq++
		c.invite.CSeq().SeqNo = c.dlg.localSeq
		c.invite.RemoveHeader("Via")
		if err := c.sendInvite(c.ctx); err != nil {
			c.end(CauseFailed, 0, err.Error())
		}
		return
	}
	if c.cancelSent || c.wantHangup {
		c.end(c.byeCause, code, res.Reason)
		return
	}
	c.end(CauseRejected, code, res.Reason)
}

func (c *Call) onTxDone(tx sip.ClientTransaction, err error) {
	if tx != c.cliTx {
		return
	}
	switch c.State() {
	case StateCalling, StateProceeding, StateEarly:
		reason := "no answer from the far end"
		if err != nil {
			reason = err.Error()
		}
		if c.wantHangup {
			c.end(c.byeCause, 408, reason)
			return
		}
		c.end(CauseFailed, 408, reason)
	case StateTerminating:
		if c.cancelSent && !c.mediaUp {
			// No 487 came (an RFC 2543 peer): the INVITE is over anyway.
			c.end(c.byeCause, 0, "cancelled")
		}
	}
}

func (c *Call) sendCancel() {
	c.cancelSent = true
	c.setState(StateTerminating)
	req := cancelFor(c.invite)
	tx, err := c.ua.cli.TransactionRequest(c.ctx, req, keepAsBuilt)
	if err != nil {
		c.log.Warn("cancel", "err", err)
		c.end(c.byeCause, 0, "cancel failed")
		return
	}
	go func() {
		defer tx.Terminate()
		ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
		defer cancel()
		if _, err := finalResponse(ctx, tx); err != nil {
			c.log.Info("cancel response", "err", err)
		}
	}()
}

// sendBye ends a confirmed dialog; the state machine ends, with cause,
// when the BYE's transaction does (or fails).
func (c *Call) sendBye(cause EndCause, reason string) {
	c.wantHangup = true
	c.byeCause, c.byeReason = cause, reason
	c.setState(StateTerminating)
	req := c.dlg.request(sip.BYE)
	c.ua.prepare(req, false)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
		defer cancel()
		_, err := c.ua.do(ctx, req)
		c.post(inByeDone{err: err})
	}()
}

// API inputs.

func (c *Call) onAnswer(ch chan error) {
	if c.dir != Incoming || c.State() != StateRinging {
		reply(ch, fmt.Errorf("%w: answer in state %s", ErrWrongState, c.State()))
		return
	}
	var body []byte
	var err error
	if c.hasOffer {
		var ans media.Description
		var p media.Params
		ans, p, err = c.local.Answer(c.offer, c.sdpID, c.sdpVersion)
		if err == nil {
			body, err = ans.Marshal()
		}
		if err == nil {
			c.sess.Configure(p)
			c.mediaUp = true
			c.remoteHeld = !c.offer.Direction.Receives() || c.offer.OnHoldAddr
		}
	} else {
		// Late offer: ours goes in the 200, the answer comes in the ACK.
		body, err = c.local.Offer(c.sdpID, c.sdpVersion).Marshal()
	}
	if err != nil {
		_ = c.respondInvite(500, "Server Internal Error", nil)
		reply(ch, err)
		c.end(CauseFailed, 500, err.Error())
		return
	}
	if err := c.respondInvite(200, "OK", body); err != nil {
		reply(ch, err)
		c.end(CauseFailed, 0, err.Error())
		return
	}
	c.setState(StateAnswering)
	c.startRetransmit()
	if ch != nil {
		c.answerWait = append(c.answerWait, ch)
	}
}

func (c *Call) onReject(status int, reason string, ch chan error) {
	if c.dir != Incoming || c.State() != StateRinging {
		reply(ch, fmt.Errorf("%w: reject in state %s", ErrWrongState, c.State()))
		return
	}
	err := c.respondInvite(status, reason, nil)
	reply(ch, err)
	c.end(CauseDeclined, status, reason)
}

func (c *Call) onHangup(cause EndCause, ch chan error) {
	if ch != nil {
		c.hangupWait = append(c.hangupWait, ch)
	}
	c.wantHangup = true
	c.byeCause = cause
	switch c.State() {
	case StateRinging:
		_ = c.respondInvite(480, "Temporarily Unavailable", nil)
		c.end(cause, 480, "")
	case StateCalling:
		// CANCEL may go only after a provisional (RFC 3261 §9.1): it
		// goes when one comes, or the INVITE times out.
	case StateProceeding, StateEarly:
		c.sendCancel()
	case StateAnswering, StateConfirmed:
		c.stopRetransmit()
		c.sendBye(cause, "")
	case StateTerminating:
		// Already on the way out.
	}
}

// Requests from the far end.

func (c *Call) onBye(in inBye) {
	defer close(in.done)
	c.ua.respond(in.req, in.tx, 200, "OK")
	if c.State() == StateRinging {
		// Not legal before our answer, but clear: the INVITE is over too.
		_ = c.respondInvite(487, "Request Terminated", nil)
	}
	c.end(CauseRemoteHangup, 0, "")
}

func (c *Call) onCancel() {
	if c.State() == StateRinging {
		// The transaction layer has answered 200 and 487 already.
		c.finalSentOnce.Do(func() { close(c.finalSent) })
		c.end(CauseCancelled, 487, "caller cancelled")
	}
}

func (c *Call) onAck(req *sip.Request) {
	if c.pendingAck != nil {
		c.pendingAck = nil
		c.stopRetransmit()
		if len(req.Body()) > 0 {
			c.applyAckAnswer(req.Body())
		}
		return
	}
	if c.State() != StateAnswering {
		return
	}
	c.stopRetransmit()
	if !c.hasOffer {
		if !c.applyAckAnswer(req.Body()) {
			c.sendBye(CauseFailed, "no usable SDP answer in ACK")
			return
		}
	}
	c.setState(StateConfirmed)
	for _, w := range c.answerWait {
		w <- nil
	}
	c.answerWait = nil
	c.emit(CallEvent{Kind: EventAnswered, Status: 200})
	if c.remoteHeld {
		c.emit(CallEvent{Kind: EventHeld})
	}
}

func (c *Call) applyAckAnswer(body []byte) bool {
	p, err := c.acceptAnswer(body)
	if err != nil {
		c.log.Warn("answer in ACK unusable", "err", err)
		return false
	}
	c.sess.Configure(p)
	c.mediaUp = true
	return true
}

// onReinvite handles a re-INVITE: a new offer (hold, resume, a moved
// media address) or none (we offer, the ACK answers).
func (c *Call) onReinvite(in inReinvite) {
	st := c.State()
	if st != StateConfirmed {
		c.ua.respond(in.req, in.tx, 491, "Request Pending")
		close(in.done)
		return
	}
	seq := in.req.CSeq().SeqNo
	if seq <= c.dlg.remoteSeq {
		c.ua.respond(in.req, in.tx, 500, "Server Internal Error", sip.NewHeader("Retry-After", "1"))
		close(in.done)
		return
	}
	c.dlg.remoteSeq = seq
	if ct := in.req.Contact(); ct != nil && ct.Address.Host != "" {
		c.dlg.remoteTarget = *ct.Address.Clone() // a target refresh
	}
	c.sdpVersion++
	var body []byte
	if len(in.req.Body()) > 0 {
		offer, err := media.ParseSDP(in.req.Body())
		var ans media.Description
		var p media.Params
		if err == nil {
			ans, p, err = c.local.Answer(offer, c.sdpID, c.sdpVersion)
		}
		if err == nil {
			body, err = ans.Marshal()
		}
		if err != nil {
			c.log.Info("re-INVITE refused", "err", err)
			c.ua.respond(in.req, in.tx, 488, "Not Acceptable Here")
			close(in.done)
			return
		}
		c.sess.Configure(p)
		held := !offer.Direction.Receives() || offer.OnHoldAddr
		if held != c.remoteHeld {
			c.remoteHeld = held
			if held {
				c.emit(CallEvent{Kind: EventHeld})
			} else {
				c.emit(CallEvent{Kind: EventResumed})
			}
		}
	} else {
		var err error
		if body, err = c.local.Offer(c.sdpID, c.sdpVersion).Marshal(); err != nil {
			c.ua.respond(in.req, in.tx, 500, "Server Internal Error")
			close(in.done)
			return
		}
	}
	res := sip.NewResponseFromRequest(in.req, 200, "OK", body)
	res.AppendHeader(c.ua.contact())
	res.AppendHeader(sip.NewHeader("Allow", allowed))
	ct := sip.ContentTypeHeader("application/sdp")
	res.AppendHeader(&ct)
	if err := in.tx.Respond(res); err != nil {
		c.log.Warn("re-INVITE 200", "err", err)
	}
	close(in.done)
	c.ok200, c.okTx = res, in.tx
	c.pendingAck = &in
	c.startRetransmit()
}

// 2xx retransmission until the ACK (RFC 3261 §13.3.1.4): T1 doubling to
// T2, for 64×T1.

func (c *Call) startRetransmit() {
	c.stopRetransmit()
	if c.ua.network != "UDP" {
		c.retxDeadline = time.Now().Add(64 * sip.T1)
		c.retxEvery = 64 * sip.T1
	} else {
		c.retxEvery = sip.T1
		c.retxDeadline = time.Now().Add(64 * sip.T1)
	}
	c.retx = time.NewTimer(c.retxEvery)
}

func (c *Call) stopRetransmit() {
	if c.retx != nil {
		c.retx.Stop()
		c.retx = nil
	}
}

func (c *Call) onRetransmit() {
	if c.ok200 == nil {
		c.retx = nil
		return
	}
	if !time.Now().Before(c.retxDeadline) {
		c.retx = nil
		c.log.Warn("no ACK for 200 OK: hanging up")
		c.pendingAck = nil
		c.sendBye(CauseFailed, "no ACK for 200 OK")
		return
	}
	if err := c.okTx.Respond(c.ok200); err != nil {
		c.log.Debug("2xx retransmission", "err", err)
	}
	c.retxEvery = min(2*c.retxEvery, sip.T2)
	c.retx = time.NewTimer(c.retxEvery)
}
