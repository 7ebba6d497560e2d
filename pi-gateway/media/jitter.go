package media

import (
	"fmt"
	"math"
	"time"
)

// JitterMode chooses how the receive buffer sets its depth.
type JitterMode uint8

// Jitter buffer modes; the zero value is adaptive.
const (
	// JitterAdaptive follows the measured jitter between Min and Max.
	JitterAdaptive JitterMode = iota
	// JitterFixed holds Target of audio at all times.
	JitterFixed
)

func (m JitterMode) String() string {
	switch m {
	case JitterAdaptive:
		return "adaptive"
	case JitterFixed:
		return "fixed"
	}
	return fmt.Sprintf("JitterMode(%d)", uint8(m))
}

// Conceal chooses what plays in place of a lost frame.
type Conceal uint8

// Concealment methods; the zero value repeats, fading.
const (
	// ConcealRepeat replays the last good frame at half the level each
	// time, then silence: less audible than a gap for a single loss.
	ConcealRepeat Conceal = iota
	// ConcealSilence plays silence.
	ConcealSilence
)

func (c Conceal) String() string {
	switch c {
	case ConcealRepeat:
		return "repeat"
	case ConcealSilence:
		return "silence"
	}
	return fmt.Sprintf("Conceal(%d)", uint8(c))
}

// JitterConfig configures a JitterBuffer. Durations are rounded to 20 ms
// frames.
type JitterConfig struct {
	Mode JitterMode
	// Target is the fixed depth, or the adaptive mode's starting depth
	// (default 40 ms).
	Target time.Duration
	// Min and Max bound the adaptive depth (default 20 ms and 200 ms).
	Min, Max time.Duration
	Conceal  Conceal
}

// Buffer geometry, in samples at 8 kHz.
const (
	frameSamples     = 160
	maxPacketSamples = 480  // 60 ms: the longest ptime accepted
	jbSlots          = 64   // packets held: over a second at 20 ms
	maxAhead         = 8000 // a packet further than 1 s ahead resyncs
	// maxConcealRun is how long (in frames) the buffer conceals before it
	// treats the stream as stopped (hold, silence suppression) and
	// buffers afresh: 500 ms.
	maxConcealRun = 25
	// shrinkAfter is how many frames the depth must stay above target
	// before the adaptive buffer drops one frame: 1 s.
	shrinkAfter = 50
)

type slot struct {
	used    bool
	ts      uint32
	n       int
	arrival time.Time
	pcm     [maxPacketSamples]int16
}

// PushResult says what a JitterBuffer did with a packet.
type PushResult uint8

// Push results.
const (
	Stored PushResult = iota + 1
	Late              // its time to play has passed: dropped
	Duplicate
	Invalid // empty or longer than 60 ms
)

func (r PushResult) String() string {
	switch r {
	case Stored:
		return "stored"
	case Late:
		return "late"
	case Duplicate:
		return "duplicate"
	case Invalid:
		return "invalid"
	}
	return fmt.Sprintf("PushResult(%d)", uint8(r))
}

// PopResult says what a frame from a JitterBuffer holds.
type PopResult uint8

// Pop results.
const (
	Buffering PopResult = iota + 1 // not playing yet: silence
	Played                         // received audio
	Concealed                      // a lost or late frame, concealed
)

func (r PopResult) String() string {
	switch r {
	case Buffering:
		return "buffering"
	case Played:
		return "played"
	case Concealed:
		return "concealed"
	}
	return fmt.Sprintf("PopResult(%d)", uint8(r))
}

// JitterStats are a JitterBuffer's counters.
type JitterStats struct {
	Late, Duplicates, Invalid uint64 // packets
	Overflow                  uint64 // packets pushed out of a full buffer
	Played, Concealed         uint64 // frames
	Dropped                   uint64 // frames skipped to cut latency
	Resyncs                   uint64
	Depth, Target             time.Duration
	// Jitter is the interarrival jitter (RFC 3550 §6.4.1).
	Jitter time.Duration
}

// JitterBuffer reorders received audio by RTP timestamp and plays it out a
// frame at a time, late packets dropped and lost ones concealed. Not safe
// for concurrent use.
type JitterBuffer struct {
	mode               JitterMode
	conceal            Conceal
	target, minD, maxD int // samples

	slots   [jbSlots]slot
	count   int
	playing bool
	playTS  uint32

	last       [frameSamples]int16
	lastOK     bool
	concealRun int
	highRun    int
	lowRun     int

	epoch       time.Time
	transitOK   bool
	lastArrival uint32
	lastTS      uint32
	jitter      float64 // samples

	st JitterStats
}

func roundFrames(d time.Duration) int {
	n := int(math.Ceil(d.Seconds() * 8000 / frameSamples))
	return max(n, 1) * frameSamples
}

// NewJitterBuffer makes a buffer.
func NewJitterBuffer(cfg JitterConfig) *JitterBuffer {
	if cfg.Target <= 0 {
		cfg.Target = 40 * time.Millisecond
	}
	if cfg.Min <= 0 {
		cfg.Min = 20 * time.Millisecond
	}
	if cfg.Max <= 0 {
		cfg.Max = 200 * time.Millisecond
	}
	j := &JitterBuffer{
		mode:    cfg.Mode,
		conceal: cfg.Conceal,
		target:  roundFrames(cfg.Target),
		minD:    roundFrames(cfg.Min),
		maxD:    roundFrames(min(cfg.Max, time.Second/2)),
	}
	j.maxD = max(j.maxD, j.minD)
	if j.mode == JitterAdaptive {
		j.target = min(max(j.target, j.minD), j.maxD)
	}
	return j
}

// Reset empties the buffer (a new source) and keeps the counters.
func (j *JitterBuffer) Reset() {
	for i := range j.slots {
		j.slots[i].used = false
	}
	j.count, j.playing, j.lastOK, j.concealRun, j.transitOK = 0, false, false, 0, false
}

// Push stores a packet's decoded samples, taken at RTP timestamp ts and
// received at arrival.
func (j *JitterBuffer) Push(ts uint32, pcm []int16, arrival time.Time) PushResult {
	n := len(pcm)
	if n == 0 || n > maxPacketSamples {
		j.st.Invalid++
		return Invalid
	}
	j.updateJitter(ts, arrival)
	if j.playing {
		rel := int32(ts - j.playTS)
		if int64(rel)+int64(n) <= 0 {
			j.st.Late++
			if j.mode == JitterAdaptive {
				// It came after its time: buffer deeper at once.
				j.target = min(j.target+frameSamples, j.maxD)
			}
			return Late
		}
		if rel > maxAhead || rel < -maxAhead {
			j.resync()
		}
	} else if j.count > 0 {
		if rel := int32(ts - j.earliest()); rel > maxAhead || rel < -maxAhead {
			j.resync()
		}
	}
	free := -1
	for i := range j.slots {
		s := &j.slots[i]
		if !s.used {
			if free < 0 {
				free = i
			}
			continue
		}
		if s.ts == ts {
			j.st.Duplicates++
			return Duplicate
		}
	}
	if free < 0 {
		free = j.oldestSlot()
		j.slots[free].used = false
		j.count--
		j.st.Overflow++
	}
	s := &j.slots[free]
	s.used, s.ts, s.n, s.arrival = true, ts, n, arrival
	copy(s.pcm[:], pcm)
	j.count++
	return Stored
}

func (j *JitterBuffer) resync() {
	j.st.Resyncs++
	for i := range j.slots {
		j.slots[i].used = false
	}
	j.count, j.playing = 0, false
}

// updateJitter is RFC 3550 §6.4.1's estimate, in samples.
func (j *JitterBuffer) updateJitter(ts uint32, arrival time.Time) {
	if j.epoch.IsZero() {
		j.epoch = arrival
	}
	arr := uint32(int64(arrival.Sub(j.epoch).Seconds() * 8000))
	if j.transitOK {
		d := float64(int32((arr - j.lastArrival) - (ts - j.lastTS)))
		j.jitter += (math.Abs(d) - j.jitter) / 16
	}
	j.transitOK, j.lastArrival, j.lastTS = true, arr, ts
}

func (j *JitterBuffer) earliest() uint32 {
	var e uint32
	first := true
	for i := range j.slots {
		s := &j.slots[i]
		if s.used && (first || int32(s.ts-e) < 0) {
			e, first = s.ts, false
		}
	}
	return e
}

func (j *JitterBuffer) oldestSlot() int {
	best := -1
	for i := range j.slots {
		s := &j.slots[i]
		if s.used && (best < 0 || int32(s.ts-j.slots[best].ts) < 0) {
			best = i
		}
	}
	return best
}

// depth is the audio held from the play point (or the earliest packet)
// to the end of the latest packet, in samples.
func (j *JitterBuffer) depth() int {
	if j.count == 0 {
		return 0
	}
	from := j.playTS
	if !j.playing {
		from = j.earliest()
	}
	d := 0
	for i := range j.slots {
		s := &j.slots[i]
		if s.used {
			d = max(d, int(int32(s.ts-from))+s.n)
		}
	}
	return d
}

// Pop fills out (one 20 ms frame, 160 samples) with the next audio and
// returns what it holds and when the packet that supplied it arrived
// (zero when nothing did), for the receive-to-playout latency.
func (j *JitterBuffer) Pop(out []int16) (PopResult, time.Time) {
	out = out[:frameSamples]
	if !j.playing {
		if j.count == 0 || j.depth() < j.target {
			clear(out)
			return Buffering, time.Time{}
		}
		j.playing, j.playTS = true, j.earliest()
	}
	if j.count > 0 {
		// A gap in timestamps larger than the buffer (silence
		// suppression, a sender restarting) is skipped, not waited out.
		if gap := int32(j.earliest() - j.playTS); gap > int32(j.target+2*frameSamples) {
			j.playTS = j.earliest()
			j.st.Resyncs++
		}
	}
	j.adapt()
	covered, arrival := j.fill(out)
	j.playTS += frameSamples
	if covered > 0 {
		j.concealRun = 0
		copy(j.last[:], out)
		j.lastOK = true
		j.st.Played++
		return Played, arrival
	}
	j.st.Concealed++
	j.concealRun++
	j.concealFrame(out)
	if j.concealRun >= maxConcealRun && j.count == 0 {
		j.playing = false
	}
	return Concealed, time.Time{}
}

// fill copies the samples of [playTS, playTS+160) and frees the packets
// used up.
func (j *JitterBuffer) fill(out []int16) (int, time.Time) {
	clear(out)
	covered := 0
	var arrival time.Time
	for i := range j.slots {
		s := &j.slots[i]
		if !s.used {
			continue
		}
		rel := int(int32(s.ts - j.playTS))
		start, end := max(rel, 0), min(rel+s.n, frameSamples)
		if start < end {
			copy(out[start:end], s.pcm[start-rel:end-rel])
			covered += end - start
			if arrival.IsZero() || s.arrival.Before(arrival) {
				arrival = s.arrival
			}
		}
		if rel+s.n <= frameSamples {
			s.used = false
			j.count--
		}
	}
	return covered, arrival
}

func (j *JitterBuffer) concealFrame(out []int16) {
	if j.conceal == ConcealSilence || !j.lastOK || j.concealRun > 3 {
		clear(out)
		return
	}
	shift := uint(j.concealRun)
	for i, v := range j.last {
		out[i] = v >> shift
	}
}

// adapt moves the adaptive target towards four times the jitter plus a
// frame, and drops a frame when the buffer has held too much for a second
// (a sender whose clock runs fast would otherwise add delay for ever).
func (j *JitterBuffer) adapt() {
	if j.mode == JitterAdaptive {
		j.adaptTarget()
	}
	if j.depth() > j.target+2*frameSamples {
		j.highRun++
		if j.highRun >= shrinkAfter {
			j.highRun = 0
			j.playTS += frameSamples
			j.st.Dropped++
			j.discardBefore(j.playTS)
		}
	} else {
		j.highRun = 0
	}
}

func (j *JitterBuffer) adaptTarget() {
	want := roundFrames(time.Duration((4*j.jitter + frameSamples) / 8000 * float64(time.Second)))
	want = min(max(want, j.minD), j.maxD)
	switch {
	case want > j.target:
		j.target, j.lowRun = want, 0
	case want < j.target:
		j.lowRun++
		if j.lowRun >= 2*shrinkAfter {
			j.target -= frameSamples
			j.lowRun = 0
		}
	default:
		j.lowRun = 0
	}
}

func (j *JitterBuffer) discardBefore(ts uint32) {
	for i := range j.slots {
		s := &j.slots[i]
		if s.used && int32(s.ts-ts)+int32(s.n) <= 0 {
			s.used = false
			j.count--
		}
	}
}

// Stats returns the counters.
func (j *JitterBuffer) Stats() JitterStats {
	st := j.st
	st.Depth = samplesToDuration(j.depth())
	st.Target = samplesToDuration(j.target)
	st.Jitter = time.Duration(j.jitter / 8000 * float64(time.Second))
	return st
}

func samplesToDuration(n int) time.Duration {
	return time.Duration(n) * time.Second / 8000
}
