"""Facts of configuration: CA settings in the environment, AWS and boto config files, code and scripts."""
