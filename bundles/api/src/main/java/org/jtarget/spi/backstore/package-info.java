/** Backstore SPI: what a storage backend implements. Modelled on LIO's target_backend_ops/exec_cmd_ops. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.2.0")
package org.jtarget.spi.backstore;
