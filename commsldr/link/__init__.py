"""commsldr.link"""
