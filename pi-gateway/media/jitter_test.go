package media

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// frameOf is a frame whose every sample is v, so tests can see which
// packet played.
func frameOf(v int16) []int16 {
	f := make([]int16, frameSamples)
	for i := range f {
		f[i] = v
	}
	return f
}

type jbStep struct {
	push   []int16 // packet ids (sample value = id, ts = 1000 + id*160); nil: none
	pop    bool
	want   PopResult
	wantV  int16 // first sample of the popped frame
	pushed []PushResult
}

func runJB(t *testing.T, jb *JitterBuffer, steps []jbStep) {
	t.Helper()
	at := time.Unix(0, 0)
	out := make([]int16, frameSamples)
	for i, st := range steps {
		for k, id := range st.push {
			res := jb.Push(uint32(1000+int(id)*frameSamples), frameOf(id), at)
			if st.pushed != nil {
				assert.Equal(t, st.pushed[k], res, "step %d push %d", i, id)
			}
		}
		if st.pop {
			res, _ := jb.Pop(out)
			assert.Equal(t, st.want, res, "step %d", i)
			assert.Equal(t, st.wantV, out[0], "step %d sample", i)
		}
		at = at.Add(20 * time.Millisecond)
	}
}

func TestJitterBuffer(t *testing.T) {
	fixed40 := JitterConfig{Mode: JitterFixed, Target: 40 * time.Millisecond}
	tests := []struct {
		name  string
		cfg   JitterConfig
		steps []jbStep
		check func(t *testing.T, st JitterStats)
	}{
		{
			name: "in order after priming",
			cfg:  fixed40,
			steps: []jbStep{
				{push: []int16{1}, pop: true, want: Buffering},
				{push: []int16{2}, pop: true, want: Played, wantV: 1},
				{push: []int16{3}, pop: true, want: Played, wantV: 2},
				{push: []int16{4}, pop: true, want: Played, wantV: 3},
			},
			check: func(t *testing.T, st JitterStats) {
				assert.EqualValues(t, 3, st.Played)
				assert.Zero(t, st.Concealed)
			},
		},
		{
			name: "reordered",
			cfg:  fixed40,
			steps: []jbStep{
				{push: []int16{2, 1}, pop: true, want: Played, wantV: 1},
				{push: []int16{4, 3}, pop: true, want: Played, wantV: 2},
				{pop: true, want: Played, wantV: 3},
				{pop: true, want: Played, wantV: 4},
			},
		},
		{
			name: "lost frame repeated at half level, late one dropped",
			cfg:  fixed40,
			steps: []jbStep{
				{push: []int16{1, 2}, pop: true, want: Played, wantV: 1},
				{push: []int16{4}, pop: true, want: Played, wantV: 2},
				{pop: true, want: Concealed, wantV: 1},                                            // 3 is missing: half of frame 2
				{push: []int16{3}, pushed: []PushResult{Late}, pop: true, want: Played, wantV: 4}, // 3 came too late
			},
			check: func(t *testing.T, st JitterStats) {
				assert.EqualValues(t, 1, st.Late)
				assert.EqualValues(t, 1, st.Concealed)
			},
		},
		{
			name: "silence concealment",
			cfg:  JitterConfig{Mode: JitterFixed, Target: 20 * time.Millisecond, Conceal: ConcealSilence},
			steps: []jbStep{
				{push: []int16{10}, pop: true, want: Played, wantV: 10},
				{pop: true, want: Concealed, wantV: 0},
			},
		},
		{
			name: "duplicates",
			cfg:  fixed40,
			steps: []jbStep{
				{push: []int16{1, 1}, pushed: []PushResult{Stored, Duplicate}},
			},
			check: func(t *testing.T, st JitterStats) { assert.EqualValues(t, 1, st.Duplicates) },
		},
		{
			name: "jump of more than a second resyncs",
			cfg:  JitterConfig{Mode: JitterFixed, Target: 20 * time.Millisecond},
			steps: []jbStep{
				{push: []int16{1}, pop: true, want: Played, wantV: 1},
				{push: []int16{200}, pop: true, want: Played, wantV: 200},
			},
			check: func(t *testing.T, st JitterStats) { assert.EqualValues(t, 1, st.Resyncs) },
		},
		{
			name: "gap (silence suppression) skipped",
			cfg:  JitterConfig{Mode: JitterFixed, Target: 20 * time.Millisecond},
			steps: []jbStep{
				{push: []int16{1}, pop: true, want: Played, wantV: 1},
				{push: []int16{20}, pop: true, want: Played, wantV: 20},
				{push: []int16{21}, pop: true, want: Played, wantV: 21},
			},
		},
		{
			name: "stream stops: concealment, then buffering again",
			cfg:  JitterConfig{Mode: JitterFixed, Target: 20 * time.Millisecond, Conceal: ConcealSilence},
			steps: append([]jbStep{{push: []int16{1}, pop: true, want: Played, wantV: 1}},
				append(repeatStep(jbStep{pop: true, want: Concealed}, maxConcealRun),
					jbStep{pop: true, want: Buffering})...),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jb := NewJitterBuffer(tt.cfg)
			runJB(t, jb, tt.steps)
			if tt.check != nil {
				tt.check(t, jb.Stats())
			}
		})
	}
}

func repeatStep(s jbStep, n int) []jbStep {
	out := make([]jbStep, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestJitterBufferInvalid(t *testing.T) {
	jb := NewJitterBuffer(JitterConfig{})
	assert.Equal(t, Invalid, jb.Push(1, nil, time.Now()))
	assert.Equal(t, Invalid, jb.Push(1, make([]int16, maxPacketSamples+1), time.Now()))
	assert.EqualValues(t, 2, jb.Stats().Invalid)
}

func TestJitterBufferOverflow(t *testing.T) {
	jb := NewJitterBuffer(JitterConfig{Mode: JitterFixed, Target: 20 * time.Millisecond})
	at := time.Now()
	for i := range jbSlots + 3 {
		// 10 ms packets, so the span stays under the 1 s resync limit.
		require.Equal(t, Stored, jb.Push(uint32(i*80), frameOf(int16(i))[:80], at))
	}
	assert.EqualValues(t, 3, jb.Stats().Overflow)
	out := make([]int16, frameSamples)
	res, _ := jb.Pop(out)
	assert.Equal(t, Played, res)
	assert.Equal(t, int16(3), out[0], "the oldest were pushed out")
}

// 10 ms packets (ptime 10) fill a 20 ms frame in two halves; 30 ms ones
// straddle frames.
func TestJitterBufferOtherPacketTimes(t *testing.T) {
	jb := NewJitterBuffer(JitterConfig{Mode: JitterFixed, Target: 20 * time.Millisecond})
	at := time.Now()
	half := make([]int16, 80)
	for i := range half {
		half[i] = 5
	}
	jb.Push(0, half, at)
	half2 := make([]int16, 80)
	for i := range half2 {
		half2[i] = 6
	}
	jb.Push(80, half2, at)
	out := make([]int16, frameSamples)
	res, arrival := jb.Pop(out)
	assert.Equal(t, Played, res)
	assert.Equal(t, at, arrival)
	assert.Equal(t, int16(5), out[0])
	assert.Equal(t, int16(6), out[159])

	jb = NewJitterBuffer(JitterConfig{Mode: JitterFixed, Target: 20 * time.Millisecond})
	long := make([]int16, 240)
	for i := range long {
		long[i] = int16(i)
	}
	jb.Push(0, long, at)
	jb.Pop(out)
	assert.Equal(t, int16(159), out[159])
	res, _ = jb.Pop(out)
	assert.Equal(t, Played, res)
	assert.Equal(t, int16(160), out[0])
	assert.Equal(t, int16(239), out[79])
	assert.Equal(t, int16(0), out[80], "the rest of the frame is silence")
}

// The adaptive target grows when packets come late and follows jitter.
func TestJitterBufferAdaptive(t *testing.T) {
	jb := NewJitterBuffer(JitterConfig{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond, Target: 20 * time.Millisecond})
	assert.Equal(t, 20*time.Millisecond, jb.Stats().Target)
	out := make([]int16, frameSamples)
	at := time.Unix(0, 0)
	jb.Push(0, frameOf(1), at)
	jb.Pop(out)
	jb.Pop(out) // frame 2 missing: concealed
	assert.Equal(t, Late, jb.Push(frameSamples, frameOf(2), at.Add(60*time.Millisecond)))
	assert.Equal(t, 40*time.Millisecond, jb.Stats().Target, "a late packet deepens the buffer")

	// Packets arriving in bursts of five every 100 ms: jitter rises and so
	// does the target.
	jb = NewJitterBuffer(JitterConfig{})
	ts := uint32(0)
	for burst := range 50 {
		arr := at.Add(time.Duration(burst) * 100 * time.Millisecond)
		for range 5 {
			jb.Push(ts, frameOf(1), arr)
			ts += frameSamples
		}
		for range 5 {
			jb.Pop(out)
		}
	}
	st := jb.Stats()
	assert.Greater(t, st.Jitter, 20*time.Millisecond)
	assert.GreaterOrEqual(t, st.Target, 100*time.Millisecond)
	assert.LessOrEqual(t, st.Target, 200*time.Millisecond)
	assert.Equal(t, "adaptive", JitterAdaptive.String())
	assert.Equal(t, "fixed", JitterFixed.String())
	assert.Equal(t, "silence", ConcealSilence.String())
	assert.Equal(t, "late", Late.String())
	assert.Equal(t, "concealed", Concealed.String())
}

// A sender whose clock runs fast fills the buffer; a frame is dropped to
// keep the delay near the target.
func TestJitterBufferDropsToCutDelay(t *testing.T) {
	jb := NewJitterBuffer(JitterConfig{Mode: JitterFixed, Target: 20 * time.Millisecond})
	out := make([]int16, frameSamples)
	at := time.Unix(0, 0)
	ts := uint32(0)
	for range 10 {
		jb.Push(ts, frameOf(1), at)
		ts += frameSamples
	}
	for range shrinkAfter + 1 {
		jb.Push(ts, frameOf(1), at)
		ts += frameSamples
		jb.Pop(out)
	}
	assert.EqualValues(t, 1, jb.Stats().Dropped)
}

func TestSeqStats(t *testing.T) {
	tests := []struct {
		name string
		seqs []uint16
		lost int64
	}{
		{name: "in order", seqs: []uint16{1, 2, 3}, lost: 0},
		{name: "one lost", seqs: []uint16{1, 2, 4}, lost: 1},
		{name: "wrap", seqs: []uint16{65534, 65535, 0, 1}, lost: 0},
		{name: "wrap with loss", seqs: []uint16{65534, 0, 1}, lost: 1},
		{name: "duplicate", seqs: []uint16{1, 2, 2, 3}, lost: -1},
		{name: "reordered", seqs: []uint16{1, 3, 2, 4}, lost: 0},
		{name: "restart after jump", seqs: []uint16{1, 2, 30000, 30001, 30002}, lost: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s seqStats
			assert.Zero(t, s.lost())
			for _, q := range tt.seqs {
				s.update(q)
			}
			assert.Equal(t, tt.lost, s.lost())
		})
	}
}
