"""Run every benchmark; each prints its own ratio against a baseline measured in the same run."""

import bench_anchor_check
import bench_images
import bench_java_cacerts
import bench_lambda_zip
import bench_lockfiles
import bench_memory
import bench_probe
import bench_report_merge
import bench_root_scan
import bench_site_packages
import bench_startup

if __name__ == "__main__":
    bench_startup.main()
    bench_site_packages.main()
    bench_lockfiles.main()
    bench_lambda_zip.main()
    bench_anchor_check.main()
    bench_java_cacerts.main()
    bench_probe.main()
    bench_report_merge.main()
    bench_root_scan.main()
    bench_memory.main()
    bench_images.main()
