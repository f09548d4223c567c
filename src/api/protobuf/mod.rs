//! Kubernetes protobuf request bodies (the `k8s\0` envelope) decoded into the same JSON objects a
//! JSON body gives.
