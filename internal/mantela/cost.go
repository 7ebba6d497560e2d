package mantela

import "fmt"

// CostModel prices a dialled number. The timed models follow the community
// router (tkytel/mantela-router) and the Japanese dialling rules: a pulse
// digit N sends N pulses, and 0 sends 10.
type CostModel int

const (
	// PushButton costs 120 ms per digit (DTMF tone plus pause).
	PushButton CostModel = iota
	// Pulse10PPS costs 600 ms per digit (inter-digit pause) plus 100 ms per
	// pulse.
	Pulse10PPS
	// Pulse20PPS costs 450 ms per digit plus 50 ms per pulse.
	Pulse20PPS
	// HopCount costs 1 per exchange passed to; digits are free, so among
	// routes with the same number of hops the shorter number wins.
	HopCount
)

func (m CostModel) String() string {
	switch m {
	case PushButton:
		return "push-button"
	case Pulse10PPS:
		return "pulse-10pps"
	case Pulse20PPS:
		return "pulse-20pps"
	case HopCount:
		return "hops"
	default:
		return fmt.Sprintf("CostModel(%d)", int(m))
	}
}

// Unit names the unit of the model's costs.
func (m CostModel) Unit() string {
	if m == HopCount {
		return "hops"
	}
	return "ms"
}

// ParseCostModel reads the name String returns, or a short name: push,
// pulse10, pulse20 (hops is both).
func ParseCostModel(name string) (CostModel, error) {
	for model := PushButton; model <= HopCount; model++ {
		if model.String() == name {
			return model, nil
		}
	}
	switch name {
	case "push":
		return PushButton, nil
	case "pulse10":
		return Pulse10PPS, nil
	case "pulse20":
		return Pulse20PPS, nil
	}
	return 0, fmt.Errorf("mantela: unknown cost model %q (push, pulse10, pulse20 or hops)", name)
}

func (m CostModel) valid() bool {
	return m >= PushButton && m <= HopCount
}

// DialCost returns the cost of dialling digits under the model, in Unit. It
// reports false when the model cannot dial them: pulse dialling has no '*'
// or '#', and only 0–9, '*' and '#' are dialable at all.
func (m CostModel) DialCost(digits string) (int64, bool) {
	var perDigit, perPulse int64
	switch m {
	case PushButton:
		perDigit = 120
	case Pulse10PPS:
		perDigit, perPulse = 600, 100
	case Pulse20PPS:
		perDigit, perPulse = 450, 50
	case HopCount:
	default:
		return 0, false
	}
	var cost int64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		switch {
		case c >= '0' && c <= '9':
			pulses := int64(c - '0')
			if pulses == 0 {
				pulses = 10
			}
			cost += perDigit + perPulse*pulses
		case (c == '*' || c == '#') && (m == PushButton || m == HopCount):
			cost += perDigit
		default:
			return 0, false
		}
	}
	return cost, true
}

// stepCost is the cost of moving one exchange further by appending digits.
func (m CostModel) stepCost(digits string) (int64, bool) {
	cost, ok := m.DialCost(digits)
	if !ok {
		return 0, false
	}
	if m == HopCount {
		return 1, true
	}
	return cost, true
}
