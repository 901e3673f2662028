// Package words gives errors the agent can put on the reception window
// their words for staff: the window is Vietnamese by default, and an
// error's Error() text is English, for logs and IT.
package words

// Err is an error with a Vietnamese wording for the window. The window
// finds it through any wrapping with the Vietnamese method, so a package
// needs no import of this one to be shown in Vietnamese.
type Err struct {
	EN string // Error(): logs, the HIS API, English screens
	VI string // Vietnamese(): shown to staff on a Vietnamese screen
}

// Error returns the English text.
func (e *Err) Error() string { return e.EN }

// Vietnamese returns the Vietnamese text.
func (e *Err) Vietnamese() string { return e.VI }

// Error returns a new error with English and Vietnamese words.
func Error(en, vi string) error { return &Err{EN: en, VI: vi} }
