package call

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kurodenwa/kurodenwa/internal/site"
)

const blackPhoneDID = "+81312345678"

func TestBusyBlackPhoneQueuesCallers(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Queue.PositionAnnouncement = "kd-queue-position" })
	h.talk("a")

	assert.Equal(t, []string{
		"answer b", "bridge hold2", "add b hold2", "moh hold2", "timer queue 5m0s",
		"play b sound:kd-queue-position number:1",
	}, h.inbound("b", site.TwilioEndpoint, blackPhoneDID), "a caller who must wait is answered and held, the phone is not rung")
	assert.Equal(t, StateQueued, h.state("b"))
	assert.Contains(t, h.inbound("c", site.TwilioEndpoint, blackPhoneDID), "play c sound:kd-queue-position number:2")
	assert.Equal(t, 2, h.e.Stats().Queued)

	assert.Equal(t, []string{
		"hangup a 16", "destroy mix1", "ended completed",
		"dial leg2 PJSIP/blackphone cid=+819011112222", "timer ring 30s",
	}, h.gone("leg1", 16), "the phone rings for the first waiting caller as soon as it is free")
	assert.Empty(t, h.ringing("leg2"), "the waiting caller keeps its music")
	assert.Equal(t, []string{
		"cancel ring", "cancel queue", "stop-play b", "bridge mix4", "unmoh hold2", "remove b hold2", "add b mix4", "add leg2 mix4 absorb",
	}, h.up("leg2"))
	assert.Equal(t, StateQueued, h.state("c"), "the second caller waits for the next turn")

	assert.Equal(t, []string{"remove leg2 mix4", "play leg2 " + tone("hangup"), "timer tone 1m0s"}, h.gone("b", 16),
		"the black phone, still off hook, hears the hang-up tone and stays busy")
	assert.Contains(t, h.gone("leg2", 16), "dial leg3 PJSIP/blackphone cid=+819011112222", "on hook: c's turn")
}

func TestQueueFullGivesBusyWithoutAnswer(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Queue.MaxLength = 1 })
	h.talk("a")
	h.inbound("b", site.TwilioEndpoint, blackPhoneDID)
	assert.Equal(t, []string{"progress c", "play c " + tone("busy"), "timer tone 20s"},
		h.inbound("c", site.TwilioEndpoint, blackPhoneDID))
	assert.Equal(t, []string{"hangup c 17", "ended busy"}, h.fire("tone", "c"))
}

func TestQueueMaxWait(t *testing.T) {
	h := newHarness(t)
	h.talk("a")
	h.inbound("b", site.TwilioEndpoint, blackPhoneDID)
	assert.Equal(t, []string{"unmoh hold2", "remove b hold2", "play b " + tone("busy"), "timer tone 20s"}, h.fire("queue"))
	assert.Equal(t, []string{"hangup b 17", "destroy hold2", "ended queue-timeout"}, h.fire("tone", "b"))
	assert.Zero(t, h.e.Stats().Queued)
}

func TestQueuedCallerHangsUp(t *testing.T) {
	h := newHarness(t)
	h.talk("a")
	h.inbound("b", site.TwilioEndpoint, blackPhoneDID)
	h.inbound("c", site.TwilioEndpoint, blackPhoneDID)
	assert.Equal(t, []string{"cancel queue", "destroy hold2", "ended abandoned"}, h.gone("b", 16))
	got := h.gone("leg1", 16)
	assert.Contains(t, got, "dial leg2 PJSIP/blackphone cid=+819011112222", "c is next once b left")
}

func TestQueueRetryWhenPhoneAnswersBusy(t *testing.T) {
	h := newHarness(t)
	h.inbound("b", site.TwilioEndpoint, blackPhoneDID)
	assert.Equal(t, []string{
		"hangup leg1 17", "cancel ring",
		"answer b", "bridge hold1", "add b hold1", "moh hold1", "timer retry 5s", "timer queue 5m0s",
	}, h.dialStatus("leg1", DialBusy), "busy although in no call (off hook): the caller waits")
	assert.Equal(t, []string{"dial leg2 PJSIP/blackphone cid=+819011112222", "timer ring 30s"}, h.fire("retry"))
	assert.Contains(t, h.dialStatus("leg2", DialBusy), "timer retry 5s", "busy again: back to the front of the queue")
	h.fire("queue")
	assert.Equal(t, StateSignalling, h.state("b"))
}

func TestSelfCallIsBusy(t *testing.T) {
	h := newHarness(t)
	assert.Equal(t, []string{"progress bp", "play bp " + tone("busy"), "timer tone 20s"}, h.outbound("bp", "blackphone", "201"))
}
