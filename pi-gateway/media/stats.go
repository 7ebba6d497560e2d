package media

import (
	"net/netip"
	"time"
)

// Stats are a Session's counters, for metrics and the call log.
type Stats struct {
	PacketsSent, BytesSent         uint64 // RTP packets and their bytes (header included)
	PacketsReceived, BytesReceived uint64 // valid RTP from the remote side
	// Lost is RFC 3550's cumulative number of packets lost (expected
	// minus received; duplicates can make it negative).
	Lost int64
	// Late packets arrived after their playout time; Duplicates twice.
	Late, Duplicates uint64
	// Concealed frames played in place of missing audio; Dropped frames
	// skipped to cut the buffer's delay.
	Concealed, Dropped uint64
	// Invalid packets did not parse or had an unknown payload type;
	// Foreign came from an address other than the latched remote one.
	Invalid, Foreign uint64
	// Jitter is the RFC 3550 interarrival jitter.
	Jitter time.Duration
	// BufferDepth and BufferTarget are the jitter buffer's current and
	// wanted delay.
	BufferDepth, BufferTarget time.Duration
	// Latency is receive-to-playout: from a packet's arrival to the Read
	// that returned its audio (mean and maximum over the call).
	LatencyMean, LatencyMax time.Duration
	// PlayoutOverruns are frames the reader did not take in time;
	// SendUnderruns times the writer fell behind the send clock.
	PlayoutOverruns uint64
	SendUnderruns   uint64
	DigitsSent      uint64
	DigitsReceived  uint64
	Remote          netip.AddrPort
}

// seqStats follows RFC 3550 Appendix A.1 and A.3 for one source: the
// extended highest sequence number and the packets received.
type seqStats struct {
	started  bool
	baseSeq  uint32
	maxSeq   uint16
	cycles   uint32
	badSeq   uint32
	received uint64
}

const (
	maxDropout  = 3000
	maxMisorder = 100
)

func (s *seqStats) reset(seq uint16) {
	s.started, s.baseSeq, s.maxSeq, s.cycles, s.badSeq, s.received = true, uint32(seq), seq, 0, 1<<16+1, 0
}

// update accounts for a packet; a jump of more than maxDropout is taken
// as a restart when the next packet follows it.
func (s *seqStats) update(seq uint16) {
	if !s.started {
		s.reset(seq)
		s.received = 1
		return
	}
	udelta := seq - s.maxSeq
	switch {
	case udelta < maxDropout:
		if seq < s.maxSeq {
			s.cycles += 1 << 16
		}
		s.maxSeq = seq
	case udelta <= 1<<16-maxMisorder:
		if uint32(seq) == s.badSeq {
			s.reset(seq)
		} else {
			s.badSeq = (uint32(seq) + 1) & 0xffff
			return
		}
	}
	s.received++
}

// lost is the cumulative number lost (RFC 3550 A.3).
func (s *seqStats) lost() int64 {
	if !s.started {
		return 0
	}
	expected := int64(s.cycles) + int64(s.maxSeq) - int64(s.baseSeq) + 1
	return expected - int64(s.received)
}
