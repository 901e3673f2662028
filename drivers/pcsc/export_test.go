package pcsc

// Polls returns how many times the monitor has called
// SCardGetStatusChange (tests check that it blocks rather than spins).
func (m *Monitor) Polls() uint64 { return m.polls.Load() }
