package phone

import (
	"fmt"
	"time"

	"github.com/kurodenwa/kurodenwa/internal/tone"
)

// CommandKind is what the Machine asks its runner to do.
type CommandKind uint8

// Commands for the line, the local tone player, the network and timers.
const (
	CmdRing        CommandKind = iota + 1 // ring the bell with Command.Cadence
	CmdStopRinging                        // silence the bell
	CmdReverse                            // loop polarity: Command.On is reversed
	CmdTalk                               // speech path relay: Command.On
	CmdPlayTone                           // play Command.Tone locally, replacing any other, until CmdStopTone
	CmdStopTone                           // stop the local tone
	CmdDial                               // start a call to Command.Number as Command.Call
	CmdAnswer                             // answer incoming Command.Call (200 OK)
	CmdReject                             // refuse incoming Command.Call with Command.Status
	CmdHangup                             // end or cancel Command.Call
	CmdSendDigit                          // send Command.Digit on Command.Call (RFC 4733)
	CmdStartTimer                         // start Command.Timer for Command.After, tagged Command.Seq
	CmdStopTimer                          // stop Command.Timer
	CmdCallEnded                          // a call ended with Command.Result: count it
)

func (k CommandKind) String() string {
	switch k {
	case CmdRing:
		return "ring"
	case CmdStopRinging:
		return "stop-ringing"
	case CmdReverse:
		return "reverse"
	case CmdTalk:
		return "talk"
	case CmdPlayTone:
		return "play-tone"
	case CmdStopTone:
		return "stop-tone"
	case CmdDial:
		return "dial"
	case CmdAnswer:
		return "answer"
	case CmdReject:
		return "reject"
	case CmdHangup:
		return "hangup"
	case CmdSendDigit:
		return "send-digit"
	case CmdStartTimer:
		return "start-timer"
	case CmdStopTimer:
		return "stop-timer"
	case CmdCallEnded:
		return "call-ended"
	}
	return fmt.Sprintf("CommandKind(%d)", uint8(k))
}

// IsNetwork reports whether k goes to the network side.
func (k CommandKind) IsNetwork() bool { return k >= CmdDial && k <= CmdSendDigit }

// Command is one output of the Machine. Only the fields its Kind names
// are set.
type Command struct {
	Kind    CommandKind
	On      bool            // CmdReverse, CmdTalk
	Cadence []time.Duration // CmdRing; shared, do not modify
	Tone    Tone            // CmdPlayTone
	Call    CallID          // network commands
	Number  string          // CmdDial
	Digit   byte            // CmdSendDigit
	Status  int             // CmdReject
	Timer   Timer           // CmdStartTimer, CmdStopTimer
	After   time.Duration   // CmdStartTimer
	Seq     uint64          // CmdStartTimer
	Result  Result          // CmdCallEnded
}

// String is short and stable, for logs and table tests.
func (c Command) String() string {
	switch c.Kind {
	case CmdReverse, CmdTalk:
		if c.On {
			return c.Kind.String() + " on"
		}
		return c.Kind.String() + " off"
	case CmdPlayTone:
		return "play " + c.Tone.String()
	case CmdDial:
		return "dial " + c.Number
	case CmdReject:
		return fmt.Sprintf("reject %d", c.Status)
	case CmdSendDigit:
		return fmt.Sprintf("send-digit %c", c.Digit)
	case CmdStartTimer:
		return fmt.Sprintf("start %v %v", c.Timer, c.After)
	case CmdStopTimer:
		return "stop " + c.Timer.String()
	case CmdCallEnded:
		return "ended " + c.Result.String()
	}
	return c.Kind.String()
}

// Tone is a call-progress tone the gateway plays to the handset.
type Tone uint8

// Tones.
const (
	ToneNone       Tone = iota
	ToneDial            // 発信音
	ToneRingback        // 呼出音
	ToneBusy            // 話中音
	ToneCongestion      // the exchange cannot complete the call
	ToneHangup          // 終話音: the far end has hung up
	ToneHowler          // loud warning for a handset left off hook or a bad number
)

func (t Tone) String() string {
	switch t {
	case ToneNone:
		return "none"
	case ToneDial:
		return "dial"
	case ToneRingback:
		return "ringback"
	case ToneBusy:
		return "busy"
	case ToneCongestion:
		return "congestion"
	case ToneHangup:
		return "hangup"
	case ToneHowler:
		return "howler"
	}
	return fmt.Sprintf("Tone(%d)", uint8(t))
}

// HowlerTonelist is used when a zone has no "howler" tone: the four-tone
// howler of British exchanges, which no one mistakes for anything else.
const HowlerTonelist = "1400+2060+2450+2600/100,0/100"

// Tonelist returns t's Asterisk tonelist in zone z.
func (t Tone) Tonelist(z tone.Zone) (string, bool) {
	var name string
	switch t {
	case ToneDial:
		name = tone.Dial
	case ToneRingback:
		name = tone.Ring
	case ToneBusy:
		name = tone.Busy
	case ToneCongestion:
		name = tone.Congestion
	case ToneHangup:
		name = tone.Hangup
		if _, ok := z.Tone(name); !ok {
			name = tone.Busy // the Japanese practice, where a zone says nothing
		}
	case ToneHowler:
		if l, ok := z.Tone("howler"); ok {
			return l, true
		}
		return HowlerTonelist, true
	default:
		return "", false
	}
	return z.Tone(name)
}

// Timer names the Machine's timers.
type Timer uint8

// Timers.
const (
	TimerFirstDigit Timer = iota + 1 // dial tone without a digit
	TimerInterDigit                  // the digit map's short "T" timer
	TimerIncomplete                  // no digit for long while the number is incomplete
	numTimers
)

func (t Timer) String() string {
	switch t {
	case TimerFirstDigit:
		return "first-digit"
	case TimerInterDigit:
		return "inter-digit"
	case TimerIncomplete:
		return "incomplete"
	}
	return fmt.Sprintf("Timer(%d)", uint8(t))
}

// Result is how a call ended, for the calls-by-result metric.
type Result uint8

// Results.
const (
	ResultAnswered  Result = iota + 1 // an outgoing call was answered
	ResultBusy                        // the far end was busy
	ResultFailed                      // the network could not complete the call
	ResultAbandoned                   // the handset went down before the far end answered
	ResultMisdial                     // no valid number was dialled
	ResultAccepted                    // an incoming call was answered
	ResultMissed                      // an incoming call ended while ringing
	ResultRejected                    // an incoming call found the line in use
)

func (r Result) String() string {
	switch r {
	case ResultAnswered:
		return "answered"
	case ResultBusy:
		return "busy"
	case ResultFailed:
		return "failed"
	case ResultAbandoned:
		return "abandoned"
	case ResultMisdial:
		return "misdial"
	case ResultAccepted:
		return "accepted"
	case ResultMissed:
		return "missed"
	case ResultRejected:
		return "rejected"
	}
	return fmt.Sprintf("Result(%d)", uint8(r))
}

// Results lists every Result, for metrics that start at zero.
func Results() []Result {
	return []Result{ResultAnswered, ResultBusy, ResultFailed, ResultAbandoned, ResultMisdial, ResultAccepted, ResultMissed, ResultRejected}
}
