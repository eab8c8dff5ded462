"""commsldr.losses"""
