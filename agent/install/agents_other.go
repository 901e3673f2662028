//go:build !windows

package install

import "context"

// ListenForClose is how a Windows installer closes a running agent before it
// replaces its files (see agents_windows.go); elsewhere the package manager
// restarts the agent's service itself, and the channel never closes.
func ListenForClose(ctx context.Context) (<-chan struct{}, error) { return nil, nil }
