package media

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/tone"
)

var loopback = netip.MustParseAddr("127.0.0.1")

func newSession(t *testing.T, cfg Config) *Session {
	t.Helper()
	if !cfg.LocalIP.IsValid() {
		cfg.LocalIP = loopback
	}
	s, err := NewSession(cfg, nil)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func params(remote *Session, dir Direction) Params {
	return Params{Remote: remote.LocalAddr(), Codec: PCMU, Events: true, EventPT: 101, Direction: dir}
}

// readUntil reads frames from s until ok says the audio so far is enough,
// for at most limit of audio.
func readUntil(t *testing.T, ctx context.Context, s *Session, limit time.Duration, ok func(pcm []int16) bool) []int16 {
	t.Helper()
	var pcm []int16
	frame := make([]int16, FrameSamples)
	for len(pcm) < int(limit.Seconds()*8000) {
		require.NoError(t, s.Read(ctx, frame))
		pcm = append(pcm, frame...)
		if len(pcm)%1600 == 0 && ok(pcm) {
			return pcm
		}
	}
	return pcm
}

// lastHalfSecondHas says whether the last 500 ms hold freq.
func lastHalfSecondHas(freq float64) func([]int16) bool {
	return func(pcm []int16) bool {
		if len(pcm) < 4000 {
			return false
		}
		d := tone.Detector{Freq: freq}.Detect(pcm[len(pcm)-4000:])
		return d.OnShare > 0.95
	}
}

func TestSessionLoopbackToneAndDigits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	digits := make(chan byte, 8)
	a := newSession(t, Config{})
	b := newSession(t, Config{OnDigit: func(d byte) { digits <- d }})
	a.Configure(params(b, SendRecv))
	b.Configure(params(a, SendRecv))
	gen, err := tone.FromList("1004")
	require.NoError(t, err)
	a.SetSource(gen)
	a.Start(ctx)
	b.Start(ctx)

	select {
	case <-b.Receiving():
	case <-ctx.Done():
		t.Fatal("no RTP arrived")
	}
	pcm := readUntil(t, ctx, b, 5*time.Second, lastHalfSecondHas(1004))
	assert.True(t, lastHalfSecondHas(1004)(pcm), "1004 Hz sent by a arrives at b")

	for _, d := range []byte{'5', '#', 'A'} {
		require.NoError(t, a.SendDigit(ctx, d))
		select {
		case got := <-digits:
			assert.Equal(t, d, got)
		case <-ctx.Done():
			t.Fatalf("digit %c did not arrive", d)
		}
	}
	sa, sb := a.Stats(), b.Stats()
	assert.EqualValues(t, 3, sa.DigitsSent)
	assert.EqualValues(t, 3, sb.DigitsReceived)
	assert.Positive(t, sa.PacketsSent)
	assert.Positive(t, sb.PacketsReceived)
	assert.Positive(t, sb.BytesReceived)
	assert.LessOrEqual(t, sb.Lost, int64(0), "loopback loses nothing")
	assert.Positive(t, sb.LatencyMean)
	assert.GreaterOrEqual(t, sb.LatencyMax, sb.LatencyMean)
	assert.Equal(t, a.LocalAddr(), sb.Remote)

	// The tone can also be written frame by frame.
	a.SetSource(nil)
	gen2, err := tone.FromList("440")
	require.NoError(t, err)
	frame := make([]int16, FrameSamples)
	got := make([]int16, 0, 16000)
	for range 100 {
		gen2.Read(frame)
		require.NoError(t, a.Write(ctx, frame))
		require.NoError(t, b.Read(ctx, frame))
		got = append(got, frame...)
		if lastHalfSecondHas(440)(got) {
			break
		}
	}
	assert.True(t, lastHalfSecondHas(440)(got))

	require.NoError(t, a.Close())
	assert.ErrorIs(t, a.Read(ctx, frame), ErrClosed)
	assert.ErrorIs(t, a.Write(ctx, frame), ErrClosed)
	assert.ErrorIs(t, a.SendDigit(ctx, '1'), ErrClosed)
}

// b is told the wrong port for a, as behind NAT; with symmetric RTP it
// answers where a's packets really come from.
func TestSessionSymmetricLatch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := newSession(t, Config{})
	b := newSession(t, Config{Symmetric: true})
	a.Configure(params(b, SendRecv))
	wrong := netip.AddrPortFrom(loopback, 9) // discard port: nobody there
	b.Configure(Params{Remote: wrong, Codec: PCMU, Direction: SendRecv})
	gen, err := tone.FromList("700")
	require.NoError(t, err)
	b.SetSource(gen)
	a.Start(ctx)
	b.Start(ctx)
	pcm := readUntil(t, ctx, a, 5*time.Second, lastHalfSecondHas(700))
	assert.True(t, lastHalfSecondHas(700)(pcm), "b's audio reaches a at its real address")
	assert.Equal(t, a.LocalAddr(), b.Stats().Remote)

	// A stranger's packets are counted and dropped.
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer c.Close()
	pkt, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 1}, Payload: make([]byte, 160)}).Marshal()
	require.NoError(t, err)
	for b.Stats().Foreign == 0 {
		_, err := c.WriteToUDPAddrPort(pkt, b.LocalAddr())
		require.NoError(t, err)
		select {
		case <-ctx.Done():
			t.Fatal("foreign packet not counted")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Hold: b holds (sendonly) and plays nothing of what a sends; a receives
// b's audio (music on hold) and may not send digits while recvonly.
func TestSessionHoldDirections(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := newSession(t, Config{})
	b := newSession(t, Config{})
	a.Configure(params(b, RecvOnly))
	b.Configure(params(a, SendOnly))
	ga, err := tone.FromList("1004")
	require.NoError(t, err)
	gb, err := tone.FromList("400")
	require.NoError(t, err)
	a.SetSource(ga)
	b.SetSource(gb)
	a.Start(ctx)
	b.Start(ctx)
	pcm := readUntil(t, ctx, a, 5*time.Second, lastHalfSecondHas(400))
	assert.True(t, lastHalfSecondHas(400)(pcm), "the holder's audio is heard")
	assert.ErrorIs(t, a.SendDigit(ctx, '1'), ErrNotSending)
	frame := make([]int16, FrameSamples)
	for range 10 {
		require.NoError(t, b.Read(ctx, frame))
		assert.Equal(t, make([]int16, FrameSamples), frame, "the holder plays nothing")
	}
	assert.Zero(t, b.Stats().PacketsReceived, "a (recvonly) sends nothing")

	// Resume: both sendrecv again.
	a.Configure(params(b, SendRecv))
	b.Configure(params(a, SendRecv))
	pcm = readUntil(t, ctx, b, 5*time.Second, lastHalfSecondHas(1004))
	assert.True(t, lastHalfSecondHas(1004)(pcm))
}

func TestSessionErrors(t *testing.T) {
	ctx := context.Background()
	s := newSession(t, Config{})
	assert.ErrorIs(t, s.Read(ctx, make([]int16, 10)), ErrFrameSize)
	assert.ErrorIs(t, s.Write(ctx, make([]int16, 10)), ErrFrameSize)
	assert.ErrorIs(t, s.SendDigit(ctx, '1'), ErrNotStarted)
	assert.Error(t, s.SendDigit(ctx, 'x'))
	cctx, cancel := context.WithCancel(ctx)
	s.Start(cctx)
	assert.Error(t, s.SendDigit(ctx, '1'), "not configured")
	s.Configure(Params{Remote: netip.AddrPortFrom(loopback, 9), Codec: PCMA})
	assert.ErrorIs(t, s.SendDigit(ctx, '1'), ErrNoEvents)
	done, stop := context.WithCancel(ctx)
	stop()
	assert.ErrorIs(t, s.Read(done, make([]int16, FrameSamples)), context.Canceled)
	assert.ErrorIs(t, s.Write(done, make([]int16, FrameSamples)), context.Canceled)
	cancel()
	<-s.Done()

	_, err := NewSession(Config{}, nil)
	assert.Error(t, err, "no local IP")
	_, err = NewSession(Config{LocalIP: loopback, PortMin: 20000, PortMax: 10}, nil)
	assert.Error(t, err)
	r := newSession(t, Config{PortMin: 40000, PortMax: 40100})
	p := r.LocalAddr().Port()
	assert.True(t, p >= 40000 && p <= 40100 && p%2 == 0, "port %d", p)
}

// The receive path on crafted packets: invalid ones are counted, RTCP and
// events are not audio, a new SSRC restarts the statistics.
func TestSessionReceivePath(t *testing.T) {
	var got []byte
	s := newSession(t, Config{OnDigit: func(d byte) { got = append(got, d) }})
	from := netip.MustParseAddrPort("127.0.0.1:5004")
	now := time.Now()
	pkt := func(pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
		b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}, Payload: payload}).Marshal()
		require.NoError(t, err)
		return b
	}
	audio := make([]byte, 160)
	s.receive(pkt(0, 1, 0, 7, audio), from, now)
	assert.EqualValues(t, 1, s.Stats().Invalid, "not configured yet")
	s.Configure(Params{Remote: from, Codec: PCMU, Events: true, EventPT: 101})
	s.receive([]byte{1, 2, 3}, from, now)
	s.receive(append([]byte{0x40}, make([]byte, 20)...), from, now) // version 1
	s.receive(pkt(96, 2, 0, 7, audio), from, now)                   // unknown type
	s.receive(pkt(0, 9, 0, 7, nil), from, now)                      // empty payload
	assert.EqualValues(t, 5, s.Stats().Invalid)
	s.receive(pkt(72, 4, 0, 7, audio), from, now) // RTCP SR on the RTP port
	assert.EqualValues(t, 5, s.Stats().Invalid)

	for i := range 3 {
		s.receive(pkt(0, uint16(10+i), uint32(i*160), 7, audio), from, now)
	}
	ev := Event{Code: 11, Duration: 160}
	s.receive(pkt(101, 13, 480, 7, ev.Append(nil)), from, now)
	ev.End = true
	s.receive(pkt(101, 14, 480, 7, ev.Append(nil)), from, now)
	s.receive(pkt(101, 15, 480, 7, ev.Append(nil)), from, now)
	s.receive(pkt(101, 16, 800, 7, []byte{1}), from, now) // short event
	s.receive(pkt(101, 17, 960, 7, Event{Code: EventFlash}.Append(nil)), from, now)
	assert.Equal(t, []byte{'#'}, got, "one report per event, flash is not a digit")
	st := s.Stats()
	assert.EqualValues(t, 9, st.PacketsReceived)
	assert.EqualValues(t, 0, st.Lost)

	s.receive(pkt(8, 100, 99999, 8, audio), from, now) // new SSRC, PCMA
	assert.EqualValues(t, 0, s.Stats().Lost)
}

// Written frames wait for one frame of slack before sending, and again
// after the writer falls behind.
func TestSessionSendSlack(t *testing.T) {
	s := newSession(t, Config{})
	s.Configure(Params{Remote: netip.AddrPortFrom(loopback, 9), Codec: PCMU, Direction: SendRecv})
	ctx := context.Background()
	frame := make([]int16, FrameSamples)
	queued := func() int { s.mu.Lock(); defer s.mu.Unlock(); return s.txLen }
	require.NoError(t, s.Write(ctx, frame))
	s.sendTick()
	assert.Equal(t, 1, queued(), "one frame waits for a second")
	require.NoError(t, s.Write(ctx, frame))
	s.sendTick()
	assert.Equal(t, 1, queued(), "sending has started")
	s.sendTick()
	assert.Equal(t, 0, queued())
	s.sendTick() // the writer is late
	assert.EqualValues(t, 1, s.Stats().SendUnderruns)
	require.NoError(t, s.Write(ctx, frame))
	s.sendTick()
	assert.Equal(t, 1, queued(), "primed again")
	assert.EqualValues(t, 5, s.Stats().PacketsSent, "silence goes while waiting")
}
