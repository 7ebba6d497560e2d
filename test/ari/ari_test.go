// Package ari_test runs the ARI application (the real ari-app binary)
// against a real Asterisk with the rendered configuration, and real SIP
// phones played by sipp: an Asterisk of its own, or an external one that
// runs a site's rendered configuration (KURODENWA_TEST_ARI_URL). It skips
// with one line when what a test needs is missing (see test/README.md).
package ari_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/kurodenwa/kurodenwa/test/asterisktest"
)

func TestInboundDIDRingsTheBlackPhone(t *testing.T) {
	p := start(t, needPhones)
	port := p.registerPhone(t, "blackphone")
	phone := sipp(t, "black phone answers", "-sf", "testdata/answer_then_bye.xml", "-s", p.sipUser("blackphone"), "-aa", "-d", "1500",
		"-p", fmt.Sprint(port), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())

	did := p.did(t, "blackphone")
	p.callDID(t, did)
	phone.mustSucceed(t, 30*time.Second, p)

	c := p.waitCall(t, "inbound, completed", func(live bool, c callJSON) bool {
		return !live && c.Direction == "inbound" && c.Result == "completed"
	})
	assert.Equal(t, did, c.Dialled)
	assert.Equal(t, "blackphone", c.Target)
	assert.NotNil(t, c.Answered)
	p.waitNoChannelsLeft(t)
}

// With no phone registered the DID's caller is never answered: it hears
// congestion (early media) and is released. It needs no sipp, so it runs
// against an external Asterisk with no SIP address given too.
func TestDIDForUnregisteredPhoneFails(t *testing.T) {
	p := start(t, 0, "KURODENWA_CALLS_TONE_LIMIT=1s")
	did := p.did(t, "blackphone")
	caller := p.callDID(t, did)
	c := p.waitCall(t, "inbound, ended", func(live bool, c callJSON) bool {
		return !live && c.Direction == "inbound" && c.Dialled == did
	})
	if c.Result == "completed" {
		t.Skip("skipping: the external Asterisk has the black phone registered, and it answered")
	}
	assert.Equal(t, "failed", c.Result, "reason %q", c.Reason)
	assert.Nil(t, c.Answered, "the caller is never answered")
	p.ari.hangUp(t, caller)
	p.waitNoChannelsLeft(t)
}

func TestOutboundCallAndHangupTone(t *testing.T) {
	p := start(t, needPhones)
	lport := p.registerPhone(t, "linphone")
	softphone := sipp(t, "linphone answers", "-sf", "testdata/answer_then_bye.xml", "-s", p.sipUser("linphone"), "-aa", "-d", "1500",
		"-p", fmt.Sprint(lport), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())

	// The black phone dials Linphone and stays off hook after Linphone hangs up.
	number := p.number(t, "linphone")
	black := sipp(t, "black phone calls "+number, "-sf", "testdata/call_then_wait.xml", "-s", number, "-key", "caller", p.sipUser("blackphone"),
		"-au", p.sipUser("blackphone"), "-ap", p.password(t, "blackphone"), "-d", "6000",
		"-p", fmt.Sprint(asterisktest.FreePort(t)), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	softphone.mustSucceed(t, 30*time.Second, p)
	// Linphone has gone; the black phone is still up and hears 終話音.
	p.waitCall(t, "with the hang-up tone", func(live bool, c callJSON) bool {
		return live && c.Direction == "outbound" && c.State == "signalling"
	})
	black.mustSucceed(t, 30*time.Second, p)
	c := p.waitCall(t, "outbound, completed", func(live bool, c callJSON) bool {
		return !live && c.Direction == "outbound" && c.Result == "completed"
	})
	assert.Equal(t, number, c.Dialled)
	assert.Equal(t, "linphone", c.Target)
}

func TestBusyCalleeGivesBusyTone(t *testing.T) {
	p := start(t, needPhones, "KURODENWA_CALLS_TONE_LIMIT=2s")
	lport := p.registerPhone(t, "linphone")
	busy := sipp(t, "linphone is busy", "-sf", "testdata/busy.xml", "-s", p.sipUser("linphone"), "-aa",
		"-p", fmt.Sprint(lport), p.target())
	// The black phone hears the busy tone in band (183), then 486.
	number := p.number(t, "linphone")
	black := sipp(t, "black phone calls busy "+number, "-sf", "testdata/call_busy.xml", "-s", number, "-key", "caller", p.sipUser("blackphone"),
		"-au", p.sipUser("blackphone"), "-ap", p.password(t, "blackphone"),
		"-p", fmt.Sprint(asterisktest.FreePort(t)), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	busy.mustSucceed(t, 30*time.Second, p)
	black.mustSucceed(t, 30*time.Second, p)
	c := p.waitCall(t, "outbound, busy", func(live bool, c callJSON) bool {
		return !live && c.Direction == "outbound" && c.Result == "busy"
	})
	assert.Equal(t, "linphone", c.Target)
}

// When the application dies mid-call, the call goes on in Asterisk; the
// restarted application finds it in the Stasis app and adopts it.
func TestRestartedAppAdoptsTalkingCall(t *testing.T) {
	p := start(t, needPhones)
	port := p.registerPhone(t, "blackphone")
	phone := sipp(t, "black phone talks 12 s", "-sf", "testdata/answer_then_bye.xml", "-s", p.sipUser("blackphone"), "-aa", "-d", "12000",
		"-p", fmt.Sprint(port), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	p.callDID(t, p.did(t, "blackphone"))
	p.waitCall(t, "talking", func(live bool, c callJSON) bool { return live && c.State == "talking" })

	p.killApp(t)
	p.startApp(t)
	p.waitCall(t, "adopted, talking", func(live bool, c callJSON) bool {
		return live && c.Direction == "adopted" && c.State == "talking"
	})
	phone.mustSucceed(t, 30*time.Second, p)
	p.waitCall(t, "adopted, completed", func(live bool, c callJSON) bool {
		return !live && c.Direction == "adopted" && c.Result == "completed"
	})
	p.waitNoChannelsLeft(t) // no leg left half up
}

// A softphone in a call with the black phone transfers it to AGEphone with
// a blind REFER: Asterisk carries the transfer out and the black phone ends
// up talking to AGEphone.
func TestSoftphoneBlindTransfer(t *testing.T) {
	p := start(t, needPhones)
	bport, aport := p.registerPhone(t, "blackphone"), p.registerPhone(t, "agephone")
	black := sipp(t, "black phone answers", "-sf", "testdata/answer_then_bye.xml", "-s", p.sipUser("blackphone"), "-aa", "-d", "8000",
		"-p", fmt.Sprint(bport), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	age := sipp(t, "agephone answers", "-sf", "testdata/answer_then_bye.xml", "-s", p.sipUser("agephone"), "-aa", "-d", "2000",
		"-p", fmt.Sprint(aport), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	lin := sipp(t, "linphone transfers", "-sf", "testdata/blind_transfer.xml", "-s", p.number(t, "blackphone"), "-key", "caller", p.sipUser("linphone"),
		"-key", "target", p.number(t, "agephone"), "-au", p.sipUser("linphone"), "-ap", p.password(t, "linphone"),
		"-p", fmt.Sprint(asterisktest.FreePort(t)), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	lin.mustSucceed(t, 30*time.Second, p)
	age.mustSucceed(t, 30*time.Second, p) // AGEphone was rung, answered and hung up
	black.mustSucceed(t, 30*time.Second, p)
}
