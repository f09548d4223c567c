//! The `local` route that makes every address of the service network an address of the host
//! (`ip route replace local 10.96.0.0/16 dev lo table local`), set over netlink.

use std::net::Ipv4Addr;

use futures_util::TryStreamExt;
use rtnetlink::packet_route::route::{RouteScope, RouteType};
use rtnetlink::{RouteMessageBuilder, new_connection};

/// The kernel's `local` routing table.
const LOCAL_TABLE: u32 = 255;

/// Adds (or keeps) the local route for `network/prefix` on the loopback interface.
pub async fn ensure(network: Ipv4Addr, prefix: u8) -> anyhow::Result<()> {
    let (connection, handle, _) = new_connection()?;
    let task = tokio::spawn(connection);
    let result = async {
        let lo = handle
            .link()
            .get()
            .match_name("lo".to_string())
            .execute()
            .try_next()
            .await?
            .ok_or_else(|| anyhow::anyhow!("no loopback interface"))?;
        let route = RouteMessageBuilder::<Ipv4Addr>::new()
            .destination_prefix(network, prefix)
            .output_interface(lo.header.index)
            .table_id(LOCAL_TABLE)
            .scope(RouteScope::Host)
            .kind(RouteType::Local)
            .build();
        handle.route().add(route).replace().execute().await?;
        anyhow::Ok(())
    }
    .await;
    task.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Needs root (CAP_NET_ADMIN), which the test command has; elsewhere it only reports.
    #[tokio::test]
    async fn the_service_network_becomes_local() {
        match ensure(
            crate::network::SERVICE_NETWORK.0,
            crate::network::SERVICE_NETWORK.1,
        )
        .await
        {
            Ok(()) => {
                let addr = std::net::SocketAddr::from((Ipv4Addr::new(10, 96, 200, 7), 0));
                let bound = tokio::net::TcpListener::bind(addr).await;
                assert!(
                    bound.is_ok(),
                    "an address of the service network is local: {bound:?}"
                );
            }
            Err(e) => eprintln!("not checked: no CAP_NET_ADMIN here ({e})"),
        }
    }
}
