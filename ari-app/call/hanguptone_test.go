package call

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kurodenwa/kurodenwa/internal/site"
)

func TestHangupTone(t *testing.T) {
	tests := []struct {
		name  string
		setup func(h *harness) (far, near string)
		want  []string
		then  func(h *harness, near string) []string
		after []string
	}{
		{
			name: "black phone called: tone until on hook",
			setup: func(h *harness) (string, string) {
				h.talk("caller")
				return "caller", "leg1"
			},
			want:  []string{"remove leg1 mix1", "play leg1 " + tone("hangup"), "timer tone 1m0s"},
			then:  func(h *harness, near string) []string { return h.gone(near, 16) },
			after: []string{"cancel tone", "destroy mix1", "ended completed"},
		},
		{
			name: "black phone calling: tone bounded by the limit",
			setup: func(h *harness) (string, string) {
				h.outbound("bp", "blackphone", "202")
				h.up("leg1")
				return "leg1", "bp"
			},
			want:  []string{"remove bp mix1", "play bp " + tone("hangup"), "timer tone 1m0s"},
			then:  func(h *harness, _ string) []string { return h.fire("tone") },
			after: []string{"hangup bp 16", "destroy mix1", "ended completed"},
		},
		{
			name: "softphone: released at once",
			setup: func(h *harness) (string, string) {
				h.outbound("s1", "soft1", "203")
				h.up("leg1")
				return "leg1", "s1"
			},
			want: []string{"hangup s1 16", "destroy mix1", "ended completed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			far, near := tt.setup(h)
			assert.Equal(t, tt.want, h.gone(far, 16))
			if tt.then != nil {
				assert.Equal(t, tt.after, tt.then(h, near))
			}
			assert.Empty(t, h.e.Snapshot())
		})
	}
}

func TestHangupToneNeedsAnAnsweredPhone(t *testing.T) {
	h := newHarness(t)
	h.inbound("caller", site.TwilioEndpoint, blackPhoneDID)
	assert.Equal(t, []string{"cancel ring", "hangup leg1 16", "ended abandoned"}, h.gone("caller", 16),
		"a ringing black phone simply stops ringing")
}
