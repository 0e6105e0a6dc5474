//! The Kubernetes side of the app: clients, slim rows decoded from watch streams, indexes.
