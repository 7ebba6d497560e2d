package call

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReconcile(t *testing.T) {
	h := newHarness(t)
	h.talk("a")                      // a ↔ leg1 (black phone)
	h.outbound("s1", "soft1", "203") // s1 → leg2, ringing
	h.outbound("s3", "soft3", "202") // s3 → leg3, then its caller vanishes
	h.inbound("gone", "twilio", "+81312340001")
	h.gone("gone", 16) // retired: its channel must not come back to life

	got := h.render(h.e.Reconcile(h.now, []ChannelInfo{
		{ID: h.id("leg1"), Endpoint: "blackphone", State: ChannelUp},
		{ID: "s1", Endpoint: "soft1", State: ChannelUp},
		{ID: h.id("leg2"), Endpoint: "soft2", State: ChannelUp},
		{ID: h.id("leg3"), Endpoint: "soft2", State: ChannelRinging},
		{ID: "x1", Endpoint: "soft2", State: ChannelUp},
		{ID: "x2", Endpoint: "peer-tokyo", State: ChannelUp},
		{ID: "lone-bp", Endpoint: "blackphone", State: ChannelUp},
		{ID: "lone-s", Endpoint: "soft3", State: ChannelRing},
		{ID: "gone", Endpoint: "twilio", State: ChannelUp},
	}, []BridgeInfo{
		{ID: h.id("mix1"), Type: BridgeMixing, Channels: []string{h.id("leg1")}},
		{ID: "old-mix", Type: BridgeMixing, Channels: []string{"x1", "x2"}},
		{ID: "old-hold", Type: BridgeHolding, Channels: []string{"lone-bp"}},
		{ID: "empty", Type: BridgeMixing},
	}))

	assert.True(t, contains(got, "remove leg1 mix1", "play leg1 "+tone("hangup")),
		"the black phone whose caller vanished hears the hang-up tone: %v", got)
	assert.True(t, contains(got, "add s1 mix2", "add leg2 mix2"), "the leg found answered is connected: %v", got)
	assert.True(t, contains(got, "hangup leg3 16"), "a call whose caller vanished releases its ringing leg: %v", got)
	assert.True(t, contains(got, "destroy old-hold", "destroy empty"), "unknown bridges without a call go: %v", got)
	assert.True(t, contains(got, "play lone-bp "+tone("hangup"), "hangup lone-s 41", "hangup gone 16"), "lone channels are ended: %v", got)
	assert.NotContains(t, got, "destroy old-mix", "the adopted call keeps its bridge")

	snap := h.e.Snapshot()
	var adopted *CallRecord
	for i := range snap {
		if snap[i].Direction == Adopted && snap[i].State == StateTalking {
			adopted = &snap[i]
		}
	}
	require.NotNil(t, adopted, "two answered channels in a mixing bridge are a talking call")
	assert.ElementsMatch(t, []string{"x1", "x2"}, h.channels(*adopted, LegUp))
	assert.Equal(t, []string{"hangup x2 16", "destroy old-mix", "ended completed"}, h.gone("x1", 16))
	assert.Equal(t, StateTalking, h.state("s1"))

	// A second, identical reconciliation changes nothing more on known calls.
	again := h.render(h.e.Reconcile(h.now, []ChannelInfo{
		{ID: "s1", State: ChannelUp}, {ID: h.id("leg2"), State: ChannelUp}, {ID: h.id("leg1"), State: ChannelUp}, {ID: "lone-bp", State: ChannelUp},
	}, nil))
	assert.Empty(t, again)
}
