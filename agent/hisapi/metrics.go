package hisapi

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tiepdon/tiepdon/agent/events"
)

// metrics are the API's Prometheus series. No label carries personal data.
type metrics struct {
	connections   prometheus.Gauge
	refused       *prometheus.CounterVec // reason: host, origin, clients, token, rate, handshake
	closed        *prometheus.CounterVec // reason: hello-timeout, hello-evicted, idle, too-large, binary, invalid-utf8, flood, too-many-clients, token-revoked, shutdown, write
	requests      *prometheus.CounterVec // method, code
	latency       *prometheus.HistogramVec
	notifications *prometheus.CounterVec // event
	dropped       prometheus.Counter
	pairings      *prometheus.CounterVec // result
	perKind       map[events.Kind]prometheus.Counter
}

// notified counts a notification written; the counters are looked up once,
// not on every write to every client.
func (m *metrics) notified(k events.Kind) {
	if c, ok := m.perKind[k]; ok {
		c.Inc()
	}
}

func newMetrics(reg prometheus.Registerer, s *Server) (*metrics, error) {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tiepdon_his_connections", Help: "Open HIS API WebSocket connections."}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tiepdon_his_refused_total", Help: "Connections, requests and messages refused, by reason."}, []string{"reason"}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tiepdon_his_closed_total", Help: "Connections closed by the agent, by reason."}, []string{"reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tiepdon_his_requests_total", Help: "JSON-RPC requests answered, by method and result code (ok or the JSON-RPC error code)."}, []string{"method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tiepdon_his_request_seconds", Help: "Time to answer a JSON-RPC request.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .05, .1, .5, 1, 5, 30}}, []string{"method"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tiepdon_his_notifications_total", Help: "Notifications written to clients, by event."}, []string{"event"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tiepdon_his_notifications_dropped_total", Help: "Notifications lost because a client fell behind."}),
		pairings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tiepdon_his_pairings_total", Help: "Pairing requests, by outcome."}, []string{"result"}),
	}
	clients := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tiepdon_his_clients", Help: "Connections holding a valid token."}, func() float64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		return float64(s.authed)
	})
	// The gateway's state, one series per state, 1 for the current one:
	// an alert on tiepdon_gateway_state{state="account-refused"} == 1
	// tells IT a password needs fixing before staff call.
	var gateway []prometheus.Collector
	for _, st := range []events.GatewayState{events.GatewayOnline, events.GatewayDegraded, events.GatewayOffline, events.GatewayAccountRefused, events.GatewayNotConfigured} {
		gateway = append(gateway, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tiepdon_gateway_state", Help: "The BHXH gateway's state as the agent sees it: 1 for the current state.",
			ConstLabels: prometheus.Labels{"state": string(st)}}, func() float64 {
			if ev, ok := s.bus.Last(events.GatewayChanged); ok {
				if g, ok := ev.Data.(events.Gateway); ok && g.State == st {
					return 1
				}
			}
			return 0
		}))
	}
	// Writes kept in memory because the data folder refuses them (disk
	// full): an alert on tiepdon_unsaved_writes > 0 tells IT before the
	// memory runs out or the PC is restarted.
	unsaved := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tiepdon_unsaved_writes", Help: "Writes (scans, re-checks, audit lines, cached answers) kept in memory because the data folder refuses them."}, func() float64 {
		if ev, ok := s.bus.Last(events.OutboxChanged); ok {
			if o, ok := ev.Data.(events.Outbox); ok {
				return float64(o.Unsaved)
			}
		}
		return 0
	})
	gateway = append(gateway, unsaved)
	m.perKind = map[events.Kind]prometheus.Counter{}
	for k := range forwarded {
		m.perKind[k] = m.notifications.WithLabelValues(k.String())
	}
	for _, c := range append([]prometheus.Collector{m.connections, m.refused, m.closed, m.requests, m.latency, m.notifications, m.dropped, m.pairings, clients}, gateway...) {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
