package phone_test

import (
	"testing"

	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
)

// eventFrom builds an event from two fuzz bytes; timers expire with the
// sequence number the Machine gave them (or a stale one).
func eventFrom(a, b byte, seqs map[phone.Timer]uint64) phone.Event {
	calls := []phone.CallID{"", "out-1", "out-2", "c1", "c2"}
	digits := []byte("0123456789*#ABx\x00")
	call := calls[int(b)%len(calls)]
	kind := phone.EventKind(a%14) + 1 // one past TimerExpired: an unknown kind
	ev := phone.Event{Kind: kind, Call: call, Digit: digits[int(b)%len(digits)], Status: 400 + int(b)}
	if kind == phone.TimerExpired {
		ev.Timer = phone.Timer(b%4) + 1
		ev.Seq = seqs[ev.Timer]
		if b&0x80 != 0 {
			ev.Seq++ // stale
		}
	}
	return ev
}

func FuzzMachine(f *testing.F) {
	f.Add([]byte{0, 0, 3, 1, 3, 1, 3, 0, 7, 1, 8, 1, 10, 1, 1, 0})
	f.Add([]byte{5, 3, 0, 0, 9, 3, 2, 0, 1, 0})
	f.Add([]byte{0, 0, 12, 0, 12, 1, 12, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := phone.DefaultConfig()
		if len(data) > 0 && data[0]&1 == 1 {
			cfg.DigitMap = "(1xx|0xxxxxxxxx)"
			cfg.ErrorTone = phone.ToneHowler
			cfg.ReverseOnAnswer = false
		}
		m, err := phone.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var ring, rev, talk bool
		var tone phone.Tone
		offHook := false
		seqs := map[phone.Timer]uint64{}
		for i := 0; i+1 < len(data); i += 2 {
			ev := eventFrom(data[i], data[i+1], seqs)
			callBefore, stateBefore := m.Call(), m.State()
			switch ev.Kind {
			case phone.OffHook:
				offHook = true
			case phone.OnHook:
				offHook = false
			}
			for _, c := range m.Handle(ev) {
				switch c.Kind {
				case phone.CmdRing:
					ring = true
				case phone.CmdStopRinging:
					ring = false
				case phone.CmdReverse:
					rev = c.On
				case phone.CmdTalk:
					talk = c.On
				case phone.CmdPlayTone:
					if c.Tone == phone.ToneNone {
						t.Fatal("play none")
					}
					tone = c.Tone
				case phone.CmdStopTone:
					tone = phone.ToneNone
				case phone.CmdStartTimer:
					if c.After <= 0 || c.Seq == 0 {
						t.Fatalf("bad timer %+v", c)
					}
					seqs[c.Timer] = c.Seq
				case phone.CmdDial:
					if callBefore != "" || c.Call == "" || c.Number == "" {
						t.Fatalf("dial %+v with call %q in progress", c, callBefore)
					}
				case phone.CmdAnswer:
					if stateBefore != phone.StateRinging || c.Call != callBefore {
						t.Fatalf("answer %q in %v (call %q)", c.Call, stateBefore, callBefore)
					}
				case phone.CmdSendDigit, phone.CmdHangup:
					if c.Call == "" || c.Call != callBefore {
						t.Fatalf("%v on %q, current call %q", c.Kind, c.Call, callBefore)
					}
					if c.Kind == phone.CmdSendDigit && !phone.ValidDTMF(c.Digit) {
						t.Fatalf("send-digit %q", c.Digit)
					}
				case phone.CmdReject:
					if c.Call == "" || c.Call == m.Call() {
						t.Fatalf("reject %q, current call %q", c.Call, m.Call())
					}
				}
			}
			st := m.State()
			r, v, k := m.Outputs()
			switch {
			case r != ring || v != rev || k != talk || m.Tone() != tone:
				t.Fatalf("after %v: machine outputs %v %v %v %v, commands gave %v %v %v %v", ev, r, v, k, m.Tone(), ring, rev, talk, tone)
			case st.OffHook() != offHook:
				t.Fatalf("after %v: state %v but handset off hook = %v", ev, st, offHook)
			case ring && offHook:
				t.Fatalf("after %v: bell rings while off hook", ev)
			case talk != offHook:
				t.Fatalf("after %v: talk %v while off hook = %v", ev, talk, offHook)
			case (rev || tone != phone.ToneNone) && !offHook:
				t.Fatalf("after %v: reversed %v tone %v while on hook", ev, rev, tone)
			case (st == phone.StateConnected || st == phone.StateCalling || st == phone.StateRinging) && m.Call() == "":
				t.Fatalf("after %v: %v without a call", ev, st)
			case (st == phone.StateIdle || st == phone.StateLockout || st == phone.StateDialTone) && m.Call() != "":
				t.Fatalf("after %v: %v with call %q", ev, st, m.Call())
			case len(m.Digits()) > cfg.MaxDigits:
				t.Fatalf("after %v: %d digits", ev, len(m.Digits()))
			case st == phone.StateRinging && !ring:
				t.Fatalf("after %v: ringing state without the bell", ev)
			}
		}
	})
}

func BenchmarkMachineCall(b *testing.B) {
	m, err := phone.New(phone.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	script := []phone.Event{{Kind: phone.OffHook}}
	for _, d := range "0312345678" {
		script = append(script, phone.Event{Kind: phone.Digit, Digit: byte(d)})
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, ev := range script {
			n += len(m.Handle(ev))
		}
		call := m.Call()
		for _, ev := range []phone.Event{
			{Kind: phone.Alerting, Call: call}, {Kind: phone.Answered, Call: call},
			{Kind: phone.Digit, Digit: '1'}, {Kind: phone.RemoteHangup, Call: call}, {Kind: phone.OnHook},
		} {
			n += len(m.Handle(ev))
		}
	}
	if m.State() != phone.StateIdle || n == 0 {
		b.Fatalf("state %v", m.State())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*16), "ns/event")
}
