package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// Frame geometry of the network side (see pi-gateway/audio).
const (
	FrameTime    = 20 * time.Millisecond
	FrameSamples = frameSamples
	// txPrime is how many written frames must wait before sending starts
	// (or restarts after an underrun): 20 ms of slack.
	txPrime = 2
)

// Errors a Session returns.
var (
	ErrClosed        = errors.New("media: session closed")
	ErrFrameSize     = fmt.Errorf("media: a frame is %d samples", FrameSamples)
	ErrNoEvents      = errors.New("media: the remote side did not accept telephone-event")
	ErrNotSending    = errors.New("media: the stream does not send (on hold or not negotiated)")
	ErrNotStarted    = errors.New("media: session not started")
	errNotConfigured = errors.New("media: no negotiated parameters")
)

// Source supplies frames to send when none were written; a
// tone.Generator is one.
type Source interface {
	Read(frame []int16) int
}

// Config configures a Session.
type Config struct {
	// LocalIP is the address RTP binds to (the SIP side's address).
	LocalIP netip.Addr
	// PortMin and PortMax bound the RTP port; both zero: any free port.
	PortMin, PortMax int
	Jitter           JitterConfig
	// TxGainDB and RxGainDB scale sent and received audio (0: as is).
	TxGainDB, RxGainDB float64
	// Symmetric latches the remote address to the source of the first
	// valid packet (symmetric RTP, RFC 4961): a peer behind NAT is reached
	// where it really is, not where its SDP says.
	Symmetric bool
	// DigitDuration is how long an RFC 4733 digit lasts (default 100 ms).
	DigitDuration time.Duration
	// OnDigit is called once per received RFC 4733 digit (0-9 * # A-D),
	// from the session's clock goroutine: it must not block, or that
	// frame's send and playout wait for it.
	OnDigit func(digit byte)
}

// Session is one RTP audio stream over UDP: frames written are sent every
// 20 ms (silence when there are none, so NAT bindings and Twilio's 60 s
// media timeout stay happy), and frames received go through a jitter
// buffer to Read, which returns one frame every 20 ms.
type Session struct {
	cfg   Config
	log   *slog.Logger
	sock  *rtpSocket // owned by the clock goroutine once started
	local netip.AddrPort

	txGain, rxGain Gain
	digitSamples   int

	closeOnce sync.Once
	closed    chan struct{}
	wg        sync.WaitGroup
	startOnce sync.Once
	started   chan struct{}
	receiving chan struct{} // closed at the first audio packet
	recvOnce  sync.Once
	digits    chan *digitReq

	mu         sync.Mutex
	params     Params
	configured bool
	remote     netip.AddrPort
	latched    bool
	source     Source
	txQueue    [5][FrameSamples]int16 // 100 ms of written frames
	txHead     int
	txLen      int
	txPriming  bool // waiting for txPrime frames before sending written audio
	txWritten  bool // Write has been called
	rx         receiver
	play       [4]playFrame
	playHead   int
	playLen    int
	latSum     time.Duration
	latN       int64
	latMax     time.Duration
	st         Stats

	// Send side, used by the clock goroutine only.
	ssrc    uint32
	txSeq   uint16
	txTS    uint32
	marker  bool
	digit   *digitReq
	txPCM   [FrameSamples]int16
	txBuf   [12 + maxPacketSamples]byte
	payload []byte
	rxBuf   [2048]byte

	playReady chan struct{}
}

type playFrame struct {
	pcm     [FrameSamples]int16
	arrival time.Time
}

type digitReq struct {
	code    uint8
	startTS uint32
	dur     int
	ends    int
	done    chan error
}

// receiver is the receive path's state, guarded by Session.mu.
type receiver struct {
	pkt      rtp.Packet
	pcm      [maxPacketSamples]int16
	jb       *JitterBuffer
	seq      seqStats
	ssrc     uint32
	haveSSRC bool
	evTS     uint32
	haveEv   bool
}

// NewSession binds a UDP socket for RTP. Start runs it; Configure gives it
// the negotiated parameters.
func NewSession(cfg Config, log *slog.Logger) (*Session, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if !cfg.LocalIP.IsValid() {
		return nil, fmt.Errorf("media: no local IP to bind RTP to")
	}
	sock, err := bindRTP(cfg.LocalIP, cfg.PortMin, cfg.PortMax)
	if err != nil {
		return nil, err
	}
	dd := cfg.DigitDuration
	if dd <= 0 {
		dd = 100 * time.Millisecond
	}
	s := &Session{
		cfg:          cfg,
		log:          log,
		sock:         sock,
		local:        sock.localAddr(),
		txGain:       GainDB(cfg.TxGainDB),
		rxGain:       GainDB(cfg.RxGainDB),
		digitSamples: roundFrames(dd),
		closed:       make(chan struct{}),
		started:      make(chan struct{}),
		receiving:    make(chan struct{}),
		digits:       make(chan *digitReq, 32),
		playReady:    make(chan struct{}, 1),
		ssrc:         rand.Uint32(),
		txSeq:        uint16(rand.Uint32()),
		txTS:         rand.Uint32(),
		marker:       true,
		txPriming:    true,
	}
	s.rx.jb = NewJitterBuffer(cfg.Jitter)
	return s, nil
}

// LocalAddr is where this session receives RTP: the address for SDP.
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// Configure sets (or, after a re-INVITE, changes) the negotiated
// parameters. A new remote address is latched afresh.
func (s *Session) Configure(p Params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.configured || p.Remote != s.params.Remote {
		s.remote, s.latched = p.Remote, false
	}
	if p.Direction == 0 {
		p.Direction = SendRecv
	}
	s.params, s.configured = p, true
	s.log.Debug("media configured", "remote", p.Remote, "codec", p.Codec, "events", p.Events, "direction", p.Direction)
}

// Params returns the parameters in force.
func (s *Session) Params() Params {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.params
}

// SetSource sets what is sent when no frame was written (nil: silence).
func (s *Session) SetSource(src Source) {
	s.mu.Lock()
	s.source = src
	s.mu.Unlock()
}

// Start runs the session until ctx ends or Close. It returns at once.
// One goroutine does all the work, woken once a frame: it sends a packet,
// takes in what arrived and plays out a frame.
func (s *Session) Start(ctx context.Context) {
	s.startOnce.Do(func() {
		close(s.started)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.sock.close()
			s.clockLoop(ctx)
		}()
	})
}

// Close stops the session and frees its port.
func (s *Session) Close() error {
	s.shut()
	s.wg.Wait()
	return nil
}

func (s *Session) shut() {
	s.closeOnce.Do(func() {
		close(s.closed)
		// A running clock goroutine frees the port as it stops; without
		// one (never started, and now never to be) it is freed here.
		s.startOnce.Do(func() { s.sock.close() })
	})
}

// Done is closed when the session stops.
func (s *Session) Done() <-chan struct{} { return s.closed }

// Receiving is closed when the first audio packet arrives: early media
// has begun, so a local ringback tone should stop.
func (s *Session) Receiving() <-chan struct{} { return s.receiving }

// Write queues one frame (160 samples) to send. It does not block: when
// more than 100 ms is queued the oldest frame is dropped. Sending starts
// once two frames wait (and again after the writer fell behind), so a
// writer a little late now and then does not break the audio.
func (s *Session) Write(ctx context.Context, frame []int16) error {
	if len(frame) != FrameSamples {
		return ErrFrameSize
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-s.closed:
		return ErrClosed
	default:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.txLen == len(s.txQueue) {
		s.txHead = (s.txHead + 1) % len(s.txQueue)
		s.txLen--
	}
	copy(s.txQueue[(s.txHead+s.txLen)%len(s.txQueue)][:], frame)
	s.txLen++
	s.txWritten = true
	return nil
}

// Read waits for the next 20 ms playout frame and copies it to frame (160
// samples): received audio, concealment, or silence.
func (s *Session) Read(ctx context.Context, frame []int16) error {
	if len(frame) != FrameSamples {
		return ErrFrameSize
	}
	for {
		select {
		case <-s.closed:
			return ErrClosed
		default:
		}
		s.mu.Lock()
		if s.playLen > 0 {
			f := &s.play[s.playHead]
			copy(frame, f.pcm[:])
			if !f.arrival.IsZero() {
				lat := time.Since(f.arrival)
				s.latSum += lat
				s.latN++
				s.latMax = max(s.latMax, lat)
			}
			s.playHead = (s.playHead + 1) % len(s.play)
			s.playLen--
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
		select {
		case <-s.playReady:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closed:
			return ErrClosed
		}
	}
}

// SendDigit sends an RFC 4733 digit (0-9 * # A-D; A is the gateway's hook
// flash) and returns when its last packet has gone.
func (s *Session) SendDigit(ctx context.Context, digit byte) error {
	code, err := DigitCode(digit)
	if err != nil {
		return err
	}
	select {
	case <-s.started:
	default:
		return ErrNotStarted
	}
	s.mu.Lock()
	p, ok := s.params, s.configured
	s.mu.Unlock()
	switch {
	case !ok:
		return errNotConfigured
	case !p.Events:
		return ErrNoEvents
	case !p.Direction.Sends():
		return ErrNotSending
	}
	req := &digitReq{code: code, done: make(chan error, 1)}
	select {
	case s.digits <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return ErrClosed
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return ErrClosed
	}
}

// Stats returns the counters so far.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	js := s.rx.jb.Stats()
	st.Lost = s.rx.seq.lost()
	st.Late, st.Duplicates, st.Concealed, st.Dropped = js.Late, js.Duplicates, js.Concealed, js.Dropped
	st.Invalid += js.Invalid
	st.Jitter, st.BufferDepth, st.BufferTarget = js.Jitter, js.Depth, js.Target
	if s.latN > 0 {
		st.LatencyMean = s.latSum / time.Duration(s.latN)
	}
	st.LatencyMax = s.latMax
	st.Remote = s.remote
	return st
}

// clockLoop takes in the packets received, sends one frame and plays out
// one frame every 20 ms. Ticks missed (a stalled goroutine) are caught
// up, up to three, so RTP time keeps to the wall clock.
func (s *Session) clockLoop(ctx context.Context) {
	t := time.NewTicker(FrameTime)
	defer t.Stop()
	start := time.Now()
	var frames int64
	for {
		select {
		case <-ctx.Done():
			s.shut()
			return
		case <-s.closed:
			return
		case now := <-t.C:
			due := int64(now.Sub(start) / FrameTime)
			if behind := due - frames; behind > 3 {
				s.txTS += uint32(behind-3) * FrameSamples
				frames = due - 3
			}
			for frames < due {
				frames++
				s.sendTick()
				// After the send and right before the playout, so a
				// packet that came in time plays now, as it would had its
				// arrival woken a reader.
				s.drain()
				s.playoutTick()
			}
		}
	}
}

// sendTick sends this frame's packet: a digit's event packet while one
// is under way, else audio.
func (s *Session) sendTick() {
	ts := s.txTS
	s.txTS += FrameSamples
	s.mu.Lock()
	p, ok, remote := s.params, s.configured, s.remote
	// Always take the written frame, so the queue keeps step even when
	// the frame is not sent. After the start or an underrun, written
	// frames go only once txPrime are queued: the slack absorbs the jitter
	// between the writer's clock (the sound card's) and this one.
	haveFrame := false
	switch {
	case s.txLen > 0 && (!s.txPriming || s.txLen >= txPrime):
		s.txPriming = false
		copy(s.txPCM[:], s.txQueue[s.txHead][:])
		s.txHead = (s.txHead + 1) % len(s.txQueue)
		s.txLen--
		haveFrame = true
	case s.txLen == 0 && !s.txPriming && s.txWritten:
		s.txPriming = true
		s.st.SendUnderruns++
	}
	if !haveFrame && s.source != nil {
		haveFrame = s.source.Read(s.txPCM[:]) > 0
	}
	s.mu.Unlock()
	if !ok || !remote.IsValid() || remote.Port() == 0 || !p.Direction.Sends() {
		s.failDigit(ErrNotSending)
		return
	}
	if !p.Events {
		s.failDigit(ErrNoEvents)
	}
	if s.digit == nil && p.Events {
		select {
		case d := <-s.digits:
			d.startTS = ts
			s.digit = d
		default:
		}
	}
	hdr := rtp.Header{Version: 2, SequenceNumber: s.txSeq, Timestamp: ts, SSRC: s.ssrc}
	var finished *digitReq // its last packet goes now
	if s.digit != nil {
		d := s.digit
		hdr.PayloadType = p.EventPT
		hdr.Timestamp = d.startTS
		hdr.Marker = d.dur == 0
		d.dur = min(d.dur+FrameSamples, s.digitSamples)
		ev := Event{Code: d.code, Volume: 10, Duration: uint16(d.dur)}
		if d.dur >= s.digitSamples {
			// The end packet goes three times (RFC 4733 §2.5.1.4).
			ev.End = true
			d.ends++
		}
		s.payload = ev.Append(s.payload[:0])
		if d.ends >= 3 {
			finished, s.digit = d, nil
			s.marker = true // audio after an event starts a talkspurt
		}
	} else {
		if !haveFrame {
			clear(s.txPCM[:])
		}
		s.txGain.Apply(s.txPCM[:])
		hdr.PayloadType = p.Codec.PayloadType()
		hdr.Marker = s.marker
		s.marker = false
		s.payload = p.Codec.Encode(s.payload[:0], s.txPCM[:])
	}
	s.txSeq++
	err := s.write(&hdr, remote)
	if finished != nil {
		if err == nil {
			s.mu.Lock()
			s.st.DigitsSent++
			s.mu.Unlock()
		}
		finished.done <- err
	}
}

// write sends one packet and counts it.
func (s *Session) write(hdr *rtp.Header, remote netip.AddrPort) error {
	n, err := hdr.MarshalTo(s.txBuf[:])
	if err != nil {
		return fmt.Errorf("media: rtp marshal: %w", err)
	}
	n += copy(s.txBuf[n:], s.payload)
	if err := s.sock.send(s.txBuf[:n], remote); err != nil {
		s.log.Debug("rtp send", "remote", remote, "err", err)
		return fmt.Errorf("media: rtp send to %s: %w", remote, err)
	}
	s.mu.Lock()
	s.st.PacketsSent++
	s.st.BytesSent += uint64(n)
	s.mu.Unlock()
	return nil
}

func (s *Session) failDigit(err error) {
	if s.digit != nil {
		s.digit.done <- err
		s.digit = nil
	}
	for {
		select {
		case d := <-s.digits:
			d.done <- err
		default:
			return
		}
	}
}

// playoutTick takes one frame from the jitter buffer for Read.
func (s *Session) playoutTick() {
	s.mu.Lock()
	if s.playLen == len(s.play) {
		// The reader is behind: drop its oldest frame.
		s.playHead = (s.playHead + 1) % len(s.play)
		s.playLen--
		s.st.PlayoutOverruns++
	}
	f := &s.play[(s.playHead+s.playLen)%len(s.play)]
	var res PopResult
	res, f.arrival = s.rx.jb.Pop(f.pcm[:])
	if res != Buffering && s.params.Direction.Receives() {
		s.rxGain.Apply(f.pcm[:])
	} else if !s.params.Direction.Receives() {
		clear(f.pcm[:])
		f.arrival = time.Time{}
	}
	s.playLen++
	s.mu.Unlock()
	select {
	case s.playReady <- struct{}{}:
	default:
	}
}

// maxDrain bounds the datagrams taken in one frame time: a flood then
// costs one frame's worth of work a tick; the rest waits in the kernel's
// buffer (and is dropped there when it fills).
const maxDrain = 64

// drain takes in every datagram the socket holds, without waiting.
func (s *Session) drain() {
	for range maxDrain {
		n, from, at, err := s.sock.recv(s.rxBuf[:])
		if err != nil {
			if errors.Is(err, errWouldBlock) {
				return
			}
			// ICMP errors (port unreachable) surface here; they are not
			// fatal, and the next datagram may be fine.
			s.log.Debug("rtp receive", "err", err)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.receive(s.rxBuf[:n], from, at)
	}
}

// receive handles one datagram: the receive path every packet from the
// network takes (and the fuzz target).
func (s *Session) receive(b []byte, from netip.AddrPort, now time.Time) {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	digit, ok := s.receiveLocked(b, from, now)
	if ok && s.cfg.OnDigit != nil {
		s.cfg.OnDigit(digit)
	}
}

func (s *Session) receiveLocked(b []byte, from netip.AddrPort, now time.Time) (byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rx := &s.rx
	if len(b) < 12 || rx.pkt.Unmarshal(b) != nil || rx.pkt.Version != 2 {
		s.st.Invalid++
		return 0, false
	}
	pt := rx.pkt.PayloadType
	if pt >= 72 && pt <= 76 {
		// RTCP multiplexed on the RTP port (RFC 5761): not read.
		return 0, false
	}
	if !s.configured {
		s.st.Invalid++
		return 0, false
	}
	isEvent := s.params.Events && pt == s.params.EventPT
	if !isEvent && !Codec(pt).valid() {
		s.st.Invalid++
		return 0, false
	}
	switch {
	case s.cfg.Symmetric && !s.latched:
		if from != s.remote {
			s.log.Info("rtp remote latched", "sdp", s.remote, "source", from)
		}
		s.remote, s.latched = from, true
	case s.latched && from != s.remote:
		s.st.Foreign++
		return 0, false
	}
	if !rx.haveSSRC || rx.pkt.SSRC != rx.ssrc {
		// A new source (a transfer, a restarted sender): start afresh.
		rx.ssrc, rx.haveSSRC = rx.pkt.SSRC, true
		rx.jb.Reset()
		rx.seq = seqStats{}
		rx.haveEv = false
	}
	rx.seq.update(rx.pkt.SequenceNumber)
	s.st.PacketsReceived++
	s.st.BytesReceived += uint64(len(b))
	if isEvent {
		ev, err := ParseEvent(rx.pkt.Payload)
		if err != nil {
			s.st.Invalid++
			return 0, false
		}
		// One report per event: its packets share a timestamp.
		if rx.haveEv && rx.evTS == rx.pkt.Timestamp {
			return 0, false
		}
		rx.evTS, rx.haveEv = rx.pkt.Timestamp, true
		d, ok := CodeDigit(ev.Code)
		if ok {
			s.st.DigitsReceived++
		}
		return d, ok
	}
	if len(rx.pkt.Payload) == 0 || len(rx.pkt.Payload) > maxPacketSamples {
		s.st.Invalid++
		return 0, false
	}
	s.recvOnce.Do(func() { close(s.receiving) })
	if !s.params.Direction.Receives() {
		return 0, false
	}
	n := Codec(pt).Decode(rx.pcm[:], rx.pkt.Payload)
	rx.jb.Push(rx.pkt.Timestamp, rx.pcm[:n], now)
	return 0, false
}
