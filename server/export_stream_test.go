package server

// IdleReadConns is the number of n's read connections that no read holds.
func IdleReadConns(n *Node) int { return n.fsm.IdleReadConns() }

// SetForwardedReadLimit lowers the bound of a forwarded read's answer
// until the returned function restores it. Call it before a cluster starts
// and restore it after the cluster closed.
func SetForwardedReadLimit(limit int64) (restore func()) {
	old := forwardedReadLimit.Swap(limit)
	return func() { forwardedReadLimit.Store(old) }
}
