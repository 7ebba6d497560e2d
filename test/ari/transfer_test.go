package ari_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/test/asterisktest"
)

// Softphones' REFER transfers against a real Asterisk. Where Asterisk can
// hand REFERs to the application (PJSIP_TRANSFER_HANDLING(ari-only), 20.13,
// 21.8, 22.3 and later) and the site lets it (calls.transfer_handling:
// application here; auto only from 22.11, 20.21, 23.5) the application
// carries them out (ChannelTransfer) and reports progress with
// transfer_progress, which Asterisk sends the transferer as NOTIFY sipfrag;
// otherwise Asterisk transfers itself and reports BridgeBlindTransfer or
// BridgeAttendedTransfer. TestSoftphoneBlindTransfer (ari_test.go) runs
// whichever the default gives on the Asterisk under test.

// appHandling asks for ari-only wherever Asterisk has it: the default
// (auto) also wants the fix for a REFER with Refer-Sub: false, which
// 22.10.1, the version these tests were written on, lacks; these phones
// never send that header.
const appHandling = "KURODENWA_CALLS_TRANSFER_HANDLING=application"

// appTransfersOn skips a test that needs the application to carry out
// transfers when the Asterisk under test is too old for it.
func appTransfersOn(t *testing.T, p *pbx) {
	t.Helper()
	p.waitLog(t, "connected to Asterisk")
	out := p.app.output()
	if strings.Contains(out, "transfers=asterisk") {
		t.Skip("skipping: Asterisk carries out transfers here (it is older than 20.13, 21.8 or 22.3)")
	}
	require.Contains(t, out, "transfers=application", "the app says who carries out transfers when it connects")
	resp, err := http.Get("http://" + p.api + "/health")
	require.NoError(t, err)
	defer resp.Body.Close()
	var h struct{ Transfers string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	assert.Equal(t, "application", h.Transfers, "/health says it too")
}

// waitLog waits, bounded, for the app's log to contain s.
func (p *pbx) waitLog(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.app.output(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("ari-app never logged %q:\n%s", s, p.app.output())
		}
		p.app.wait(100 * time.Millisecond) // returns early only if it died
	}
}

// blindTransfer: Linphone calls the black phone, which answers, and
// blind-transfers it to AGEphone with scenario; AGEphone answers and hangs
// up after 2 s, the black phone after 8 s.
func blindTransfer(t *testing.T, p *pbx, scenario string) {
	t.Helper()
	bport, aport := p.registerPhone(t, "blackphone"), p.registerPhone(t, "agephone")
	black := sipp(t, "black phone answers", "-sf", "testdata/answer_then_bye.xml", "-s", p.sipUser("blackphone"), "-aa", "-d", "8000",
		"-p", fmt.Sprint(bport), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	age := sipp(t, "agephone answers", "-sf", "testdata/answer_then_bye.xml", "-s", p.sipUser("agephone"), "-aa", "-d", "2000",
		"-p", fmt.Sprint(aport), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	lin := sipp(t, "linphone transfers", "-sf", scenario, "-s", p.number(t, "blackphone"), "-key", "caller", p.sipUser("linphone"),
		"-key", "target", p.number(t, "agephone"), "-au", p.sipUser("linphone"), "-ap", p.password(t, "linphone"),
		"-p", fmt.Sprint(asterisktest.FreePort(t)), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	lin.mustSucceed(t, 30*time.Second, p) // includes the sipfrag checks of the xfer_ scenarios
	age.mustSucceed(t, 30*time.Second, p) // AGEphone was rung, answered and hung up
	black.mustSucceed(t, 30*time.Second, p)
}

// (a) A blind REFER goes to the application as ChannelTransfer: it dials
// the target, joins the transferee with it, and the transferer gets
// NOTIFY 100 and then 200 before it hangs up.
func TestChannelTransferBlindREFER(t *testing.T) {
	p := start(t, needPhones, appHandling)
	appTransfersOn(t, p)
	blindTransfer(t, p, "testdata/xfer_blind.xml")
	p.waitLog(t, "REFER handed to the application")
	out := p.app.output()
	age := p.number(t, "agephone")
	assert.Contains(t, out, "destination="+age)
	assert.NotContains(t, out, "type=BridgeBlindTransfer", "Asterisk's own transfer code stayed out")
	assert.NotContains(t, out, "ARI request failed")
	c := p.waitCall(t, "transferred to AGEphone, completed", func(live bool, c callJSON) bool {
		return !live && c.Dialled == age && c.Result == "completed"
	})
	roles := map[string]string{}
	for _, l := range c.Parties {
		roles[l.Endpoint] += l.Role + " "
	}
	assert.Equal(t, "transferer ", roles["linphone"], "the transferer left the call: %+v", c.Parties)
	assert.Equal(t, "party ", roles["agephone"], "the target joined the call")
	p.waitNoChannelsLeft(t)
}

// A blind REFER to a phone that is not registered fails: the transferer
// hears 100 and then 503, and gets its call back (it stays a party of the
// call, which it then ends itself).
func TestChannelTransferBlindREFERFails(t *testing.T) {
	p := start(t, needPhones|needOwnAsterisk, appHandling) // AGEphone must not be registered
	appTransfersOn(t, p)
	bport := p.registerPhone(t, "blackphone")
	black := sipp(t, "black phone answers", "-sf", "testdata/answer_then_bye.xml", "-s", p.sipUser("blackphone"), "-aa", "-d", "15000",
		"-p", fmt.Sprint(bport), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	blackNumber := p.number(t, "blackphone")
	lin := sipp(t, "linphone transfers to nowhere", "-sf", "testdata/xfer_blind_fail.xml", "-s", blackNumber, "-key", "caller", p.sipUser("linphone"),
		"-key", "target", p.number(t, "agephone"), "-au", p.sipUser("linphone"), "-ap", p.password(t, "linphone"),
		"-p", fmt.Sprint(asterisktest.FreePort(t)), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	lin.mustSucceed(t, 30*time.Second, p) // includes the sipfrag checks: 100, then 503
	p.waitLog(t, "REFER handed to the application")
	// Linphone hung up as a party, not as a transferer: it had its call
	// back. The black phone, left alone, hears the hang-up tone.
	p.waitCall(t, "linphone back in its call", func(live bool, c callJSON) bool {
		for _, l := range c.Parties {
			if l.Endpoint == "linphone" {
				return c.Dialled == blackNumber && l.Role == "party" && l.State == "gone"
			}
		}
		return false
	})
	black.mustSucceed(t, 30*time.Second, p)
	p.waitNoChannelsLeft(t)
}

// (b) An attended REFER (Replaces) between softphones also comes as
// ChannelTransfer: the black phone, Linphone's first call, ends up with
// AGEphone, Linphone's second, and Linphone hears 100 and 200 and hangs up
// both calls.
func TestChannelTransferAttendedREFER(t *testing.T) {
	p := start(t, needPhones, appHandling)
	appTransfersOn(t, p)
	bport, aport := p.registerPhone(t, "blackphone"), p.registerPhone(t, "agephone")
	black := sipp(t, "black phone answers", "-sf", "testdata/answer_then_bye.xml", "-s", p.sipUser("blackphone"), "-aa", "-d", "12000",
		"-p", fmt.Sprint(bport), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	age := sipp(t, "agephone answers", "-sf", "testdata/answer_then_bye.xml", "-s", p.sipUser("agephone"), "-aa", "-d", "6000",
		"-p", fmt.Sprint(aport), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	// The Call-ID goes into the Refer-To URI: no "@" in it.
	blackNumber, ageNumber := p.number(t, "blackphone"), p.number(t, "agephone")
	lin := sipp(t, "linphone attended-transfers", "-sf", "testdata/xfer_attended.xml", "-cid_str", "%u-%p-kdxfer",
		"-s", blackNumber, "-key", "caller", p.sipUser("linphone"), "-key", "target", ageNumber,
		"-au", p.sipUser("linphone"), "-ap", p.password(t, "linphone"),
		"-p", fmt.Sprint(asterisktest.FreePort(t)), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	lin.mustSucceed(t, 30*time.Second, p) // includes the sipfrag checks
	p.waitLog(t, "REFER handed to the application")
	assert.NotContains(t, p.app.output(), "type=BridgeAttendedTransfer", "Asterisk's own transfer code stayed out")
	assert.NotContains(t, p.app.output(), "ARI request failed")
	// The consultation call's record ends as transferred; its party talks
	// on in the first call, with the black phone.
	p.waitCall(t, "consultation call transferred", func(live bool, c callJSON) bool {
		return !live && c.Dialled == ageNumber && c.Result == "transferred"
	})
	p.waitCall(t, "black phone talking with AGEphone", func(live bool, c callJSON) bool {
		b, okb := c.party("blackphone")
		a, oka := c.party("agephone")
		_, linphoneLeft := c.party("linphone")
		return live && c.Dialled == blackNumber && c.State == "talking" && okb && oka && b.Role == "party" && a.Role == "party" && !linphoneLeft
	})
	age.mustSucceed(t, 30*time.Second, p)
	black.mustSucceed(t, 30*time.Second, p)
	p.waitCall(t, "first call completed", func(live bool, c callJSON) bool {
		return !live && c.Dialled == blackNumber && c.Result == "completed"
	})
	p.waitNoChannelsLeft(t)
}

// (c) calls.transfer_handling core leaves REFERs to Asterisk, on any
// version: the Bridge*Transfer path the application follows on Asterisk
// before 20.13, 21.8 and 22.3.
func TestAsteriskBlindTransferWithCoreHandling(t *testing.T) {
	p := start(t, needPhones, "KURODENWA_CALLS_TRANSFER_HANDLING=core")
	p.waitLog(t, "transfers=asterisk")
	blindTransfer(t, p, "testdata/blind_transfer.xml")
	p.waitLog(t, "type=BridgeBlindTransfer")
	assert.NotContains(t, p.app.output(), "REFER handed to the application")
	p.waitNoChannelsLeft(t)
}
