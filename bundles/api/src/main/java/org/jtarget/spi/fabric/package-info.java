/** Fabric SPI: what a transport module (iSCSI, loopback, ...) implements and what the core offers it. Modelled on LIO's target_core_fabric_ops. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package org.jtarget.spi.fabric;
