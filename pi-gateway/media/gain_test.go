package media

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/tone"
)

// TestSessionGains sends a 1004 Hz sine of known level from a session with
// TxGainDB to one with RxGainDB: what the far end reads carries both gains
// (audio.mic_gain_db and audio.speaker_gain_db end to end).
func TestSessionGains(t *testing.T) {
	tests := []struct {
		name   string
		tx, rx float64 // dB
	}{
		{"unity", 0, 0},
		{"mic -12 dB, speaker +6 dB", -12.0412, 6.0206},
		{"speaker -6 dB", 0, -6.0206},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			a := newSession(t, Config{TxGainDB: tt.tx})
			b := newSession(t, Config{RxGainDB: tt.rx})
			a.Configure(params(b, SendRecv))
			b.Configure(params(a, SendRecv))
			a.Start(ctx)
			b.Start(ctx)
			const amp = 8000.0
			frame := make([]int16, FrameSamples)
			var got []int16
			n := 0
			for range 150 {
				for i := range frame {
					frame[i] = int16(amp * math.Sin(2*math.Pi*1004*float64(n)/8000))
					n++
				}
				require.NoError(t, a.Write(ctx, frame))
				require.NoError(t, b.Read(ctx, frame))
				got = append(got, frame...)
				if lastHalfSecondHas(1004)(got) && len(got) >= 8000 {
					break
				}
			}
			require.True(t, lastHalfSecondHas(1004)(got), "the tone arrives")
			want := amp * math.Pow(10, (tt.tx+tt.rx)/20)
			// The median frame of the last 25: a frame the jitter buffer
			// had to conceal (a slow run, -race) does not count.
			var powers []float64
			for i := len(got) - 25*FrameSamples; i < len(got); i += FrameSamples {
				powers = append(powers, tone.Goertzel(got[i:i+FrameSamples], 1004, 8000))
			}
			slices.Sort(powers)
			// G.711's quantisation leaves the level within a few per cent.
			assert.InEpsilon(t, want*want/2, powers[len(powers)/2], 0.06, "level after %v dB and %v dB", tt.tx, tt.rx)
		})
	}
}
